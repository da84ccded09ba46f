import TrackerCodec

/// One MQTT publication the bridge wants to make: what the spool stores and the publisher
/// sends. `kind` and `deviceID` are for metrics, ordering and tests; they are not sent.
public struct OutboundMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: UInt8
    public var retain: Bool
    public var kind: Kind
    public var deviceID: String?
    /// MQTT 5 correlation data, for command results sent to a controller's response topic.
    public var correlationData: [UInt8]?

    public enum Kind: Sendable, Equatable {
        case position, history, alarm, event
        case deadLetter(RejectReason)
        case raw, status, availability, bridgeState, bridgeInfo, commandResult, forward
        case homeAssistant, ownTracks
    }

    public init(topic: String, payload: [UInt8], qos: UInt8 = 1, retain: Bool = false, kind: Kind, deviceID: String?) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.kind = kind
        self.deviceID = deviceID
    }
}
