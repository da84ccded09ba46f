/// Where a frame came from: the contract's `source` object, serialized once per connection
/// because every payload of that connection repeats it.
public struct PayloadSource: Sendable, Equatable {
    public let transport: Transport
    public let peer: String
    public let instance: String
    /// `{"protocol":"carscop","transport":…,"peer":…,"instance":…}`.
    public let json: [UInt8]

    public init(transport: Transport, peer: String, instance: String) {
        self.transport = transport
        self.peer = peer
        self.instance = instance
        var writer = JSONWriter(capacity: 96)
        writer.beginObject()
        writer.key("protocol")
        writer.string("carscop")
        writer.key("transport")
        writer.string(transport.rawValue)
        writer.key("peer")
        writer.string(peer)
        writer.key("instance")
        writer.string(instance)
        writer.endObject()
        json = writer.bytes
    }
}

/// Where input came from: a device socket, or (for dead letters of command messages) MQTT.
public enum Transport: String, Sendable, CaseIterable {
    case tcp, udp, mqtt

    /// The device-facing transports.
    public static let devices: [Transport] = [.tcp, .udp]
}
