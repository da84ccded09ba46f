import Foundation
import TrackerCodec

/// Which instance acts on a command, when several bridges serve one fleet. The design and
/// its argument are in `docs/scaling.md`, "Routing commands".
///
/// Commands arrive in one of two `RoutingMode`s: `shared` (`$share/<group>/<base>/+/cmd`: the
/// broker hands each command to one instance) or `broadcast` (`<base>/+/cmd`: every instance
/// gets every command; brokers without `$share`). `decide` answers from the `OwnershipView`:
/// - this instance holds the device's live session: execute it;
/// - another living instance does: `broadcast` ignores it (that instance got it too),
///   `shared` forwards it to `<base>/bridge/<owner>/forward`;
/// - nobody does: `shared` parks it here (only this instance got it); `broadcast` parks it
///   only on the device's custodian (`OwnershipView.custodian(of:)`), so exactly one instance
///   queues it and publishes `queued`.
///
/// A parked or queued command follows its device: when the view shows the device's newer
/// session on another instance, the commands kept for it are handed over on that instance's
/// `forward` topic (`forwardMessage(..., handOverTTL:)`, marked `"handover": true`), and the
/// receiver merges them by id without a second result. A forwarded command is never forwarded
/// again: it moves only with a newer session, so it cannot bounce between instances.
public enum CommandRouting {
    /// What an instance does with a command taken from its command subscription.
    public enum Decision: Sendable, Equatable {
        /// This instance holds the device's session: submit it.
        case execute
        /// Nobody holds the session and this instance keeps the command: submit it (`queued`).
        case park
        /// Another instance holds the session (`shared` mode): send it there.
        case forward(toInstance: String)
        /// Another instance acts on it (`broadcast` mode): the owner, or the custodian.
        case ignore(handledBy: String)
    }

    public static func decide(deviceID: String, view: OwnershipView, mode: RoutingMode) -> Decision {
        if let owner = view.owner(of: deviceID) {
            if owner == view.instance { return .execute }
            return mode == .shared ? .forward(toInstance: owner) : .ignore(handledBy: owner)
        }
        guard mode == .broadcast else { return .park }
        let custodian = view.custodian(of: deviceID)
        return custodian == view.instance ? .park : .ignore(handledBy: custodian)
    }

    /// The forward payload: the accepted command (with its id, even an assigned one, so every
    /// result carries the same id) plus `from` (this instance) and `topic` (where it was
    /// published). A hand-over carries `"handover": true` and, as `ttl_s`, what is left of
    /// the command's ttl (whole seconds, rounded up), so the command does not live longer for
    /// having moved. `device_password` is included only when the controller gave it: the owner
    /// applies its own defaults. The controller's MQTT 5 response target travels with the
    /// command, since only the owner sees its results; it is left out when there is none, so
    /// an owner that predates these keys still accepts the forward.
    public static func forwardPayload(
        _ request: CommandRequest, from instance: String, topic: String, responseTarget: ResponseTarget? = nil,
        handOverTTL: Int? = nil
    ) -> [UInt8] {
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
        w.integer(Int64(handOverTTL ?? request.ttlSeconds))
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
        if handOverTTL != nil {
            w.key("handover")
            w.bool(true)
        }
        w.endObject()
        return w.bytes
    }

    /// The message to `<base>/bridge/<owner>/forward` (QoS 1, not retained); `topics` names
    /// this instance (`from`). `handOverTTL`: see `forwardPayload`.
    public static func forwardMessage(
        _ request: CommandRequest, topic: String, responseTarget: ResponseTarget? = nil, handOverTTL: Int? = nil,
        to owner: String, topics: TopicLayout, deviceID: String
    ) -> OutboundMessage {
        OutboundMessage(
            topic: topics.forward(to: owner),
            payload: forwardPayload(
                request, from: topics.instance, topic: topic, responseTarget: responseTarget, handOverTTL: handOverTTL),
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
/// if it gave one, whether it is a hand-over (a command another instance queued, following
/// its device here: merged without a second result), and the command itself.
public struct ForwardedCommand: Sendable, Equatable {
    public let from: String
    public let topic: String
    public let deviceID: String
    public let responseTarget: ResponseTarget?
    public let isHandOver: Bool
    public let command: CommandParseResult

    /// Parses a forward payload; `nil` when it is not one (no string `from`/`topic`, a topic
    /// that names no valid device, a `response_topic` that is not a string, or
    /// `correlation_data` that is not base64 or comes without a `response_topic`, a `handover`
    /// that is not a boolean): the
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
        var isHandOver = false
        switch object["handover"] {
        case nil: break
        case .bool(let flag)?: isHandOver = flag
        default: return nil
        }
        let command = CommandRequest.validate(
            object, extraKeys: ["from", "topic", "response_topic", "correlation_data", "handover"], deviceID: deviceID,
            templates: templates, policy: policy, assignID: assignID)
        return ForwardedCommand(
            from: from, topic: topic, deviceID: deviceID, responseTarget: responseTarget, isHandOver: isHandOver, command: command)
    }
}
