import TrackerCodec

/// The MQTT topic names of the contract, derived from the topic base and instance name,
/// both validated once at start-up so no device input can add levels or wildcards.
public struct TopicLayout: Sendable, Equatable {
    public let base: String
    public let instance: String

    public enum ValidationError: Error, Equatable, CustomStringConvertible {
        case invalidBase(String)
        case invalidInstance(String)

        public var description: String {
            switch self {
            case .invalidBase(let base):
                "invalid topic base '\(base)': it must not start with '$', and no level may be empty or contain '+', '#' or NUL"
            case .invalidInstance(let instance):
                "invalid instance name '\(instance)': use 1-32 characters of A-Z a-z 0-9 _ -"
            }
        }
    }

    public init(base: String = "cctr", instance: String = "main") throws(ValidationError) {
        guard Self.isValidTopicPrefix(base) else { throw .invalidBase(base) }
        let instanceBytes = instance.utf8
        guard (1...32).contains(instanceBytes.count), DeviceID.isValid(utf8: instanceBytes) || instance == "bridge" else {
            throw .invalidInstance(instance)
        }
        self.base = base
        self.instance = instance
    }

    /// A topic prefix (base, Home Assistant prefix, OwnTracks base) that is safe to publish
    /// under: not `$`-prefixed, no empty level, no wildcard, no NUL.
    public static func isValidTopicPrefix(_ prefix: String) -> Bool {
        guard !prefix.isEmpty, !prefix.hasPrefix("$") else { return false }
        for level in prefix.split(separator: "/", omittingEmptySubsequences: false) {
            if level.isEmpty || level.contains("+") || level.contains("#") || level.contains("\0") {
                return false
            }
        }
        return true
    }

    /// Built for every published frame, so the three parts are copied into one string of the
    /// final size (interpolation and `String.append` cost about 300 instructions a piece).
    public func device(_ id: String, _ leaf: DeviceTopic) -> String {
        var base = base, id = id, leafName = leaf.rawValue
        return base.withUTF8 { base in
            id.withUTF8 { id in
                leafName.withUTF8 { leafName in
                    String(unsafeUninitializedCapacity: base.count + id.count + leafName.count + 2) { out in
                        var next = out.initialize(fromContentsOf: base)
                        out[next] = UInt8(ascii: "/")
                        next = UnsafeMutableBufferPointer(rebasing: out[(next + 1)...]).initialize(fromContentsOf: id) + next + 1
                        out[next] = UInt8(ascii: "/")
                        next = UnsafeMutableBufferPointer(rebasing: out[(next + 1)...]).initialize(fromContentsOf: leafName) + next + 1
                        return next
                    }
                }
            }
        }
    }

    public func bridge(_ leaf: BridgeTopic) -> String {
        "\(base)/bridge/\(instance)/\(leaf.rawValue)"
    }

    /// `<base>/bridge/forget` (QoS 1, not retained, payload the device id): `cctr-bridge
    /// forget` announces there that it cleared a device's retained topics, so every running
    /// instance drops what it remembers of them (the last retained fix time, the Home
    /// Assistant document it published). The level after `bridge` is never an instance's
    /// whole topic: those have one more level.
    public var forget: String {
        "\(base)/bridge/forget"
    }

    /// The bridge topic of another instance (command forwarding).
    public func forward(to instance: String) -> String {
        "\(base)/bridge/\(instance)/\(BridgeTopic.forward.rawValue)"
    }

    /// The device id of `<base>/<id>/status` (any id level, checked by the caller's parse of
    /// the payload), or nil for any other topic.
    public func deviceID(statusTopic topic: String) -> String? {
        instanceOrDevice(topic, prefix: base + "/", suffix: "/status")
    }

    /// The instance of `<base>/bridge/<instance>/state`, or nil for any other topic.
    public func instance(stateTopic topic: String) -> String? {
        instanceOrDevice(topic, prefix: base + "/bridge/", suffix: "/state")
    }

    /// The one level between `prefix` and `suffix`.
    private func instanceOrDevice(_ topic: String, prefix: String, suffix: String) -> String? {
        guard topic.hasPrefix(prefix), topic.hasSuffix(suffix), topic.utf8.count > prefix.utf8.count + suffix.utf8.count else {
            return nil
        }
        let level = topic.dropFirst(prefix.count).dropLast(suffix.count)
        return level.contains("/") ? nil : String(level)
    }

    public enum DeviceTopic: String, Sendable {
        case position, history, alarm, availability, status, event, cmd, raw
        case commandResult = "cmd/result"
    }

    public enum BridgeTopic: String, Sendable {
        case state, info, deadletter, forward
    }
}
