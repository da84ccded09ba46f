/// MQTT 5 properties of an outgoing PUBLISH (request/response pattern).
///
/// They are silently dropped on an MQTT 3.1.1 connection, which has no place for them; a
/// responder that needs them should check `MosquittoClient.protocolVersion`.
public struct PublishProperties: Sendable, Hashable {
    public var responseTopic: String?
    public var correlationData: [UInt8]?

    public init(responseTopic: String? = nil, correlationData: [UInt8]? = nil) {
        self.responseTopic = responseTopic
        self.correlationData = correlationData
    }
}
