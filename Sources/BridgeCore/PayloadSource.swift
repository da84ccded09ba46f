import TrackerCodec

/// Where a frame came from: the contract's `source` object, serialized once per connection
/// (and again when its protocol becomes known) because every payload of that connection
/// repeats it.
public struct PayloadSource: Sendable, Equatable {
    public let transport: Transport
    public let peer: String
    public let instance: String
    /// The connection's tracker protocol; carscop until a frame shows otherwise.
    public let protocolName: ProtocolName
    /// `{"protocol":…,"transport":…,"peer":…,"instance":…}`.
    public let json: [UInt8]

    public init(transport: Transport, peer: String, instance: String, protocolName: ProtocolName = .carscop) {
        self.transport = transport
        self.peer = peer
        self.instance = instance
        self.protocolName = protocolName
        var writer = JSONWriter(capacity: 96)
        writer.beginObject()
        writer.key("protocol")
        writer.string(protocolName.rawValue)
        writer.key("transport")
        writer.string(transport.rawValue)
        writer.key("peer")
        writer.string(peer)
        writer.key("instance")
        writer.string(instance)
        writer.endObject()
        json = writer.bytes
    }

    /// The same source speaking `protocolName`.
    public func speaking(_ protocolName: ProtocolName) -> PayloadSource {
        protocolName == self.protocolName
            ? self : PayloadSource(transport: transport, peer: peer, instance: instance, protocolName: protocolName)
    }
}

/// Where input came from: a device socket, or (for dead letters of command messages) MQTT.
public enum Transport: String, Sendable, CaseIterable {
    case tcp, udp, mqtt

    /// The device-facing transports.
    public static let devices: [Transport] = [.tcp, .udp]
}
