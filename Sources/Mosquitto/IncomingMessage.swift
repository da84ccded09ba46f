/// A message delivered by the broker for one of the client's subscriptions.
///
/// Everything is copied out of libmosquitto's callback, which owns the original buffers only
/// for the duration of the call.
public struct IncomingMessage: Sendable, Hashable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: Int
    public var retain: Bool
    /// MQTT 5 response topic; always `nil` on an MQTT 3.1.1 connection.
    public var responseTopic: String?
    /// MQTT 5 correlation data; always `nil` on an MQTT 3.1.1 connection.
    public var correlationData: [UInt8]?

    public init(
        topic: String, payload: [UInt8], qos: Int, retain: Bool,
        responseTopic: String? = nil, correlationData: [UInt8]? = nil
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.responseTopic = responseTopic
        self.correlationData = correlationData
    }
}
