import NIOCore

/// Passes a device's TCP traffic and connection loss to its `SimulatedDevice`.
final class TCPDeviceHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let device: SimulatedDevice

    init(device: SimulatedDevice) {
        self.device = device
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        device.received(String(buffer: unwrapInboundIn(data)))
    }

    func channelInactive(context: ChannelHandlerContext) {
        device.channelClosed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        device.socketError(error)
        context.close(promise: nil)
    }
}
