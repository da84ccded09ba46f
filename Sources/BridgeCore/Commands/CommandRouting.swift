import Foundation
import TrackerCodec

/// Which instance executes a command when several bridges share the command subscription
/// (`$share/<group>/<base>/+/cmd`): the owner of the device, i.e. the `instance` of its
/// retained `status` with the highest `session_epoch`. Another instance forwards the command
/// to `<base>/bridge/<owner>/forward` (command JSON plus `from` and `topic`, and the MQTT 5
/// `response_topic` and base64 `correlation_data` when the controller gave them;
/// `schemas/forward.schema.json`).
///
/// Use: feed every retained `<base>/+/status` to `statusReceived(deviceID:payload:)`
/// (an empty payload, `forget`, clears it); for each parsed command ask `route(deviceID:)`;
/// on `.forward(owner)` publish `forwardMessage(...)`. A forwarded command is parsed with
/// `ForwardedCommand.parse` and always executed locally (never forwarded again, so two
/// instances with different views cannot bounce it).
public struct CommandRouting: Sendable {
    /// Where a command goes.
    public enum Route: Sendable, Equatable {
        /// This instance sends or queues it (it owns the device, or nobody does yet).
        case local
        /// Another instance owns the device.
        case forward(toInstance: String)
    }

    /// A device's owner as its retained status says.
    public struct Owner: Sendable, Equatable {
        public let instance: String
        public let sessionEpoch: Int64

        public init(instance: String, sessionEpoch: Int64) {
            self.instance = instance
            self.sessionEpoch = sessionEpoch
        }
    }

    /// This instance's name.
    public let instance: String
    public private(set) var owners: [String: Owner] = [:]

    public init(instance: String) {
        self.instance = instance
    }

    /// Records a device's status; keeps the owner with the highest `session_epoch`, since a
    /// late retained message from an older session must not steal the device back.
    public mutating func statusSeen(deviceID: String, owner: Owner) {
        if let known = owners[deviceID], known.sessionEpoch > owner.sessionEpoch { return }
        owners[deviceID] = owner
    }

    /// Records the retained `<base>/<deviceID>/status` payload (status JSON); an empty payload
    /// (the device was forgotten) removes the owner. Payloads without a string `instance`
    /// and an integer `session_epoch` are ignored.
    public mutating func statusReceived(deviceID: String, payload: [UInt8]) {
        if payload.isEmpty {
            owners[deviceID] = nil
            return
        }
        guard case .success(.object(let status)) = JSONInput.parse(payload),
            case .string(let owner)? = status["instance"], case .integer(let epoch)? = status["session_epoch"]
        else { return }
        statusSeen(deviceID: deviceID, owner: Owner(instance: owner, sessionEpoch: epoch))
    }

    public func route(deviceID: String) -> Route {
        guard let owner = owners[deviceID], owner.instance != instance else { return .local }
        return .forward(toInstance: owner.instance)
    }

    /// The forward payload: the accepted command (with its id, even an assigned one, so every
    /// result carries the same id) plus `from` (this instance) and `topic` (where it was
    /// published). `device_password` is included only when the controller gave it: the owner
    /// applies its own defaults. The controller's MQTT 5 response target travels with the
    /// command, since only the owner sees its results; it is left out when there is none, so
    /// an owner that predates these keys still accepts the forward.
    public func forwardPayload(_ request: CommandRequest, topic: String, responseTarget: ResponseTarget? = nil) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("id")
        w.string(request.id)
        w.key("type")
        w.string(request.type.rawValue)
        w.key("params")
        w.beginObject()
        let p = request.params
        if let v = p.data { w.key("data"); w.string(v) }
        if let v = p.intervalS { w.key("interval_s"); w.integer(Int64(v)) }
        if let v = p.offset { w.key("offset"); w.string(v) }
        if let v = p.index { w.key("index"); w.integer(Int64(v)) }
        if let v = p.phone { w.key("phone"); w.string(v) }
        if let v = p.apn { w.key("apn"); w.string(v) }
        if let v = p.user { w.key("user"); w.string(v) }
        if let v = p.password { w.key("password"); w.string(v) }
        if let v = p.host { w.key("host"); w.string(v) }
        if let v = p.port { w.key("port"); w.integer(Int64(v)) }
        if let v = p.devicePassword { w.key("device_password"); w.string(v) }
        w.endObject()
        w.key("ttl_s")
        w.integer(Int64(request.ttlSeconds))
        w.key("from")
        w.string(instance)
        w.key("topic")
        w.string(topic)
        if let responseTarget {
            w.key("response_topic")
            w.string(responseTarget.topic)
            if let correlationData = responseTarget.correlationData {
                w.key("correlation_data")
                w.string(Data(correlationData).base64EncodedString())
            }
        }
        w.endObject()
        return w.bytes
    }

    /// The message to `<base>/bridge/<owner>/forward` (QoS 1, not retained).
    public func forwardMessage(
        _ request: CommandRequest, topic: String, responseTarget: ResponseTarget? = nil, to owner: String, topics: TopicLayout,
        deviceID: String
    ) -> OutboundMessage {
        OutboundMessage(
            topic: topics.forward(to: owner), payload: forwardPayload(request, topic: topic, responseTarget: responseTarget),
            qos: 1, retain: false, kind: .forward, deviceID: deviceID)
    }

    /// The device id of a command topic `<base>/<id>/cmd`, or `nil` when the topic is not
    /// one (other base, extra levels) or the id fails the id rule (a `bad device id` dead letter).
    public static func deviceID(commandTopic topic: String, base: String) -> String? {
        let prefix = base + "/"
        let suffix = "/cmd"
        guard topic.hasPrefix(prefix), topic.hasSuffix(suffix), topic.utf8.count > prefix.utf8.count + suffix.utf8.count else {
            return nil
        }
        let id = String(topic.dropFirst(prefix.count).dropLast(suffix.count))
        return DeviceID.isValid(id) ? id : nil
    }
}

/// Where a controller asked for a command's results besides `<base>/<id>/cmd/result`: the
/// MQTT 5 response topic and its correlation data (binary, echoed unchanged).
public struct ResponseTarget: Sendable, Equatable {
    public var topic: String
    public var correlationData: [UInt8]?

    public init(topic: String, correlationData: [UInt8]?) {
        self.topic = topic
        self.correlationData = correlationData
    }
}

/// A command received on this instance's `forward` topic: who forwarded it, the topic it
/// was originally published to (which names the device), the controller's response target
/// if it gave one, and the command itself.
public struct ForwardedCommand: Sendable, Equatable {
    public let from: String
    public let topic: String
    public let deviceID: String
    public let responseTarget: ResponseTarget?
    public let command: CommandParseResult

    /// Parses a forward payload; `nil` when it is not one (no string `from`/`topic`, a topic
    /// that names no valid device, a `response_topic` that is not a string, or
    /// `correlation_data` that is not base64 or comes without a `response_topic`): the
    /// caller dead-letters it, since no device or controller can be told.
    public static func parse(
        _ payload: [UInt8], base: String, templates: CommandTemplates, policy: CommandPolicy, assignID: () -> String
    ) -> ForwardedCommand? {
        guard case .success(let object) = CommandRequest.parseObject(payload, policy: policy),
            case .string(let from)? = object["from"], case .string(let topic)? = object["topic"],
            let deviceID = CommandRouting.deviceID(commandTopic: topic, base: base)
        else { return nil }
        var responseTarget: ResponseTarget?
        switch (object["response_topic"], object["correlation_data"]) {
        case (nil, nil):
            break
        case (.string(let responseTopic)?, nil):
            responseTarget = ResponseTarget(topic: responseTopic, correlationData: nil)
        case (.string(let responseTopic)?, .string(let encoded)?):
            guard let data = Data(base64Encoded: encoded) else { return nil }
            responseTarget = ResponseTarget(topic: responseTopic, correlationData: Array(data))
        default:
            return nil
        }
        let command = CommandRequest.validate(
            object, extraKeys: ["from", "topic", "response_topic", "correlation_data"], deviceID: deviceID,
            templates: templates, policy: policy, assignID: assignID)
        return ForwardedCommand(from: from, topic: topic, deviceID: deviceID, responseTarget: responseTarget, command: command)
    }
}
