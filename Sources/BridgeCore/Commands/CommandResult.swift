/// One result of a command, published on `<base>/<id>/cmd/result` (QoS 1, not retained)
/// and, when the command carried an acceptable MQTT 5 response topic, there too:
/// `{"v":1,"id","device_id","type","status","final","reason","frame","device_reply","at","instance"}`
/// (`schemas/command-result.schema.json`).
///
/// `CommandQueue` produces these; a parse rejection becomes one with
/// `CommandResult(rejection, deviceID:, at:, instance:)`. `json()` writes the payload,
/// `message(topics:)` the MQTT message for the normal topic.
public struct CommandResult: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        /// Waiting: the device is offline or unreachable, or another command is in flight.
        case queued
        /// Written to the device; final when the template expects no reply.
        case sent
        /// A device frame matched the template's reply pattern.
        case acked
        /// The write failed or the device went away before the reply.
        case failed
        /// `ttl_s` passed.
        case expired
        /// Not executed (invalid, unknown type, disabled template...).
        case rejected
    }

    /// `nil` only for a rejection whose id could not be read or broke the id rule.
    public var id: String?
    public var deviceID: String
    /// The command type as given; `nil` when it could not be read.
    public var type: String?
    public var status: Status
    /// The last result of this command execution.
    public var isFinal: Bool
    public var reason: String?
    /// What was written (ISO-8859-1 text of the bytes); `nil` before the write.
    public var frame: String?
    /// The raw device frame that matched the reply pattern.
    public var deviceReply: String?
    /// Milliseconds since the Unix epoch when this status was reached.
    public var at: Int64
    public var instance: String

    public init(
        id: String?, deviceID: String, type: String?, status: Status, isFinal: Bool, reason: String? = nil,
        frame: String? = nil, deviceReply: String? = nil, at: Int64, instance: String
    ) {
        self.id = id
        self.deviceID = deviceID
        self.type = type
        self.status = status
        self.isFinal = isFinal
        self.reason = reason
        self.frame = frame
        self.deviceReply = deviceReply
        self.at = at
        self.instance = instance
    }

    /// The final `rejected` result of a command that was not accepted.
    public init(_ rejection: CommandRejection, deviceID: String, at: Int64, instance: String) {
        self.init(
            id: rejection.id, deviceID: deviceID, type: rejection.type, status: .rejected, isFinal: true,
            reason: rejection.reason, at: at, instance: instance)
    }

    /// The JSON payload, keys in the contract's order.
    public func json() -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("v")
        w.integer(1)
        w.key("id")
        w.string(id)
        w.key("device_id")
        w.string(deviceID)
        w.key("type")
        w.string(type)
        w.key("status")
        w.string(status.rawValue)
        w.key("final")
        w.bool(isFinal)
        w.key("reason")
        w.string(reason)
        w.key("frame")
        w.string(frame)
        w.key("device_reply")
        w.string(deviceReply)
        w.key("at")
        w.timestamp(milliseconds: at)
        w.key("instance")
        w.string(instance)
        w.endObject()
        return w.bytes
    }

    /// The message for `<base>/<device_id>/cmd/result`.
    public func message(topics: TopicLayout) -> OutboundMessage {
        OutboundMessage(
            topic: topics.device(deviceID, .commandResult), payload: json(), qos: 1, retain: false,
            kind: .commandResult, deviceID: deviceID)
    }

    /// Why an MQTT 5 response topic must not be used, or `nil` when it may. Refused: topics
    /// starting with `$`, under `<base>/bridge/` or `<ha-prefix>/` (a controller must not
    /// make the bridge write over its own state or Home Assistant's discovery), and topics
    /// with wildcards, empty levels or NUL. A refused topic's reason goes into the
    /// request's `note`, so the results on the normal topic say why.
    public static func responseTopicRefusal(_ topic: String, topics: TopicLayout, haPrefix: String) -> String? {
        let refused = "response topic \(topic) refused"
        if topic.hasPrefix("$") { return "\(refused): it starts with $" }
        if topic.hasPrefix("\(topics.base)/bridge/") { return "\(refused): it is under \(topics.base)/bridge/" }
        if topic == haPrefix || topic.hasPrefix("\(haPrefix)/") { return "\(refused): it is under \(haPrefix)/" }
        guard TopicLayout.isValidTopicPrefix(topic) else { return "\(refused): it has a wildcard, an empty level or NUL" }
        return nil
    }
}
