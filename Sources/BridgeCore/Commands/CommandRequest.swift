import TrackerCodec

/// A command published to `<base>/<id>/cmd`, validated against the contract and rendered
/// through the enabled template, ready for the device's `CommandQueue`.
///
/// Use: `CommandRequest.parse(payload, deviceID:, templates:, policy:, assignID:)` gives
/// `.accepted(request)` or `.rejected(rejection)`; publish a rejection with
/// `CommandResult(rejection, deviceID:, at:, instance:)`. The caller checks beforehand that
/// the message was not retained and that the topic's id passes the id rule (both are dead
/// letters, not results), and afterwards the allowlist (reject with
/// `CommandRejection(id: request.id, type: ..., reason: "device ... is not in the allowlist")`).
public struct CommandRequest: Sendable, Equatable {
    /// Given by the controller, or assigned by `assignID` when absent.
    public let id: String
    public let type: CommandType
    /// The parameters as given (no defaults filled in), so a forward carries the original.
    public let params: CommandParams
    /// `ttl_s`: how long after `submit` the command may wait, and how long its id is remembered.
    public let ttlSeconds: Int
    /// The rendered template per device protocol that has an enabled one: the command goes
    /// out in the protocol of the device's session at the time it is written.
    public let plans: [ProtocolName: CommandPlan]
    /// Set by the caller (e.g. a refused MQTT 5 response topic); carried as `reason` on every
    /// result of this command that has no reason of its own.
    public var note: String?

    /// Parses and validates a command (the JSON of `<base>/<id>/cmd`) for `deviceID`.
    /// `assignID` is called when the command has no `id` (e.g. `b-<counter>`); it must return
    /// 1-64 printable ASCII characters.
    public static func parse(
        _ payload: [UInt8], deviceID: String, templates: CommandTemplates, policy: CommandPolicy,
        assignID: () -> String
    ) -> CommandParseResult {
        switch parseObject(payload, policy: policy) {
        case .failure(let rejection):
            return .rejected(rejection)
        case .success(let object):
            return validate(object, extraKeys: [], deviceID: deviceID, templates: templates, policy: policy, assignID: assignID)
        }
    }

    static func parseObject(_ payload: [UInt8], policy: CommandPolicy) -> Result<[String: JSONInput], CommandRejection> {
        guard payload.count <= policy.maxJSONBytes else {
            return .failure(CommandRejection(
                id: nil, type: nil, reason: "oversize: the command is \(payload.count) bytes, at most \(policy.maxJSONBytes)"))
        }
        switch JSONInput.parse(payload) {
        case .failure(let error):
            return .failure(CommandRejection(id: nil, type: nil, reason: "malformed JSON: \(error.message)"))
        case .success(.object(let object)):
            return .success(object)
        case .success(let other):
            return .failure(CommandRejection(id: nil, type: nil, reason: "malformed command: the JSON is \(other.typeName), not an object"))
        }
    }

    static func validate(
        _ object: [String: JSONInput], extraKeys: Set<String>, deviceID: String, templates: CommandTemplates,
        policy: CommandPolicy, assignID: () -> String
    ) -> CommandParseResult {
        var typeName: String?
        if case .string(let t)? = object["type"] { typeName = t }
        let id: String
        switch object["id"] {
        case nil:
            id = assignID()
        case .string(let given)? where isValidID(given):
            id = given
        case .string?:
            return .rejected(CommandRejection(id: nil, type: typeName, reason: "bad id: an id is 1-64 printable ASCII characters"))
        case let other?:
            return .rejected(CommandRejection(id: nil, type: typeName, reason: "bad id: id must be a string, not \(other.typeName)"))
        }
        func reject(_ reason: String) -> CommandParseResult {
            .rejected(CommandRejection(id: id, type: typeName, reason: reason))
        }
        guard let typeValue = object["type"] else { return reject("type is missing") }
        guard let typeName else { return reject("type must be a string, not \(typeValue.typeName)") }
        guard let type = CommandType(rawValue: typeName) else { return reject("unknown type \(typeName)") }
        let allowedKeys = Set(["id", "type", "params", "ttl_s"]).union(extraKeys)
        if let unknown = object.keys.sorted().first(where: { !allowedKeys.contains($0) }) {
            return reject("unknown key \(unknown) (allowed: \(allowedKeys.sorted().joined(separator: ", ")))")
        }
        var ttl = policy.defaultTTLSeconds
        if let value = object["ttl_s"] {
            guard case .integer(let given) = value else { return reject("ttl_s must be an integer number of seconds") }
            guard given >= 1, given <= Int64(policy.maxTTLSeconds) else {
                return reject("ttl_s \(given) is out of range 1-\(policy.maxTTLSeconds)")
            }
            ttl = Int(given)
        }
        var paramsObject: [String: JSONInput] = [:]
        switch object["params"] {
        case nil: break
        case .object(let p)?: paramsObject = p
        case let other?: return reject("params must be an object, not \(other.typeName)")
        }
        let params: CommandParams
        switch CommandParams.validate(paramsObject, for: type) {
        case .failure(let reason): return reject(reason.message)
        case .success(let p): params = p
        }
        let enabled = TrackerProtocols.all.compactMap { templates.enabledTemplate(for: type, protocol: $0.name) }
        guard !enabled.isEmpty else {
            let listed = templates.variants[type] ?? []
            return reject(
                listed.isEmpty
                    ? "no template for \(typeName) in the command template file"
                    : "the \(typeName) template is disabled (enable one of \(listed.map(\.name).joined(separator: ", ")) in the command template file)")
        }
        let values = params.placeholderValues(deviceID: deviceID, devicePassword: params.devicePassword ?? policy.devicePassword(for: deviceID))
        var plans: [ProtocolName: CommandPlan] = [:]
        for template in enabled {
            let used = template.text.placeholders
            for optional in [Placeholder.user, .apnPassword] where values[optional] != nil && !used.contains(optional) {
                return reject("the enabled \(typeName) template '\(template.name)' has no place for \(optional.parameterName)")
            }
            do throws(TemplateText.RenderError) {
                plans[template.protocolName] = CommandPlan(
                    templateName: template.name, deviceID: deviceID, framing: template.framing,
                    reply: try template.reply?.render(values), maxInFlight: template.maxInFlight, text: try template.text.render(values))
            } catch {
                return reject("\(typeName) template '\(template.name)': \(error.reason)")
            }
        }
        return .accepted(CommandRequest(id: id, type: type, params: params, ttlSeconds: ttl, plans: plans, note: nil))
    }

    /// The contract's id rule: 1-64 printable ASCII characters (0x20-0x7E).
    public static func isValidID(_ id: String) -> Bool {
        let bytes = id.utf8
        return (1...64).contains(bytes.count) && bytes.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }
    }
}

/// The outcome of parsing a command.
public enum CommandParseResult: Sendable, Equatable {
    case accepted(CommandRequest)
    case rejected(CommandRejection)
}

/// Why a command was not accepted: becomes a final `rejected` result.
public struct CommandRejection: Error, Sendable, Equatable {
    /// The command's id; `nil` when the JSON could not be read or the id broke its rule.
    public let id: String?
    /// The `type` as given (possibly unknown), `nil` when it could not be read.
    public let type: String?
    /// In words, for the result's `reason`.
    public let reason: String

    public init(id: String?, type: String?, reason: String) {
        self.id = id
        self.type = type
        self.reason = reason
    }
}

/// The settings that shape command validation: `--command-ttl`, `--command-ttl-max`,
/// `--device-password` and `devices.<id>.password`.
public struct CommandPolicy: Sendable, Equatable {
    public var defaultTTLSeconds: Int
    public var maxTTLSeconds: Int
    /// `--device-password` (default `123456`).
    public var defaultDevicePassword: String
    /// `devices.<id>.password` from the config file.
    public var devicePasswords: [String: String]
    /// Larger command JSON is rejected as oversize before it is parsed.
    public var maxJSONBytes: Int

    public init(
        defaultTTLSeconds: Int = 300, maxTTLSeconds: Int = 86_400, defaultDevicePassword: String = "123456",
        devicePasswords: [String: String] = [:], maxJSONBytes: Int = 4096
    ) {
        self.defaultTTLSeconds = defaultTTLSeconds
        self.maxTTLSeconds = maxTTLSeconds
        self.defaultDevicePassword = defaultDevicePassword
        self.devicePasswords = devicePasswords
        self.maxJSONBytes = maxJSONBytes
    }

    /// The password a command for `deviceID` uses when it gives no `device_password`.
    public func devicePassword(for deviceID: String) -> String {
        devicePasswords[deviceID] ?? defaultDevicePassword
    }
}
