import NIOCore

/// Passes the datagrams a device's connected UDP socket receives to its `SimulatedDevice`.
/// Errors (ICMP port unreachable while no server listens) are counted; the socket stays open,
/// as a tracker keeps sending whether anyone listens or not.
final class UDPDeviceHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let device: SimulatedDevice

    init(device: SimulatedDevice) {
        self.device = device
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        device.received(String(buffer: unwrapInboundIn(data).data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        device.channelClosed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        device.socketError(error)
    }
}
