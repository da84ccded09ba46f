import BridgeCore
import NIOCore

/// One TCP connection from a tracker: bytes in, through a `ConnectionPipeline`, outputs to
/// the `DeviceHub`. Runs on the channel's event loop only, so it holds its state without
/// locks. Handles the idle timeout, the frame-rate limit and a congested sink (both pause
/// reads), and the ageing of frames held before the login.
final class TrackerTCPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var pipeline: ConnectionPipeline
    private let hub: DeviceHub
    private let settings: ListenerSettings
    private let ip: String
    private var session: DeviceDirectory.SessionID = 0
    private var outputs: [ConnectionPipeline.Output] = []
    private var bucket: TokenBucket?
    private var paused = false
    private var heldTick: Scheduled<Void>?
    private var idleCheck: RepeatedTask?
    private var lastInput: Int64 = 0
    private var channel: (any Channel)?

    init(context: ConnectionPipeline.Context, hub: DeviceHub, settings: ListenerSettings, peer: String, ip: String, instance: String) {
        pipeline = ConnectionPipeline(context: context, source: PayloadSource(transport: .tcp, peer: peer, instance: instance))
        self.hub = hub
        self.settings = settings
        self.ip = ip
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        self.channel = channel
        session = hub.register(DeviceHub.SessionHandle(
            transport: .tcp, peer: pipeline.source.peer,
            close: { channel.close(promise: nil) },
            write: { bytes, done in
                channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).whenComplete { result in
                    if case .success = result { done(true) } else { done(false) }
                }
            }
        ))
        let now = WallClock.milliseconds()
        lastInput = now
        if settings.frameRateLimit > 0 {
            bucket = TokenBucket(ratePerSecond: Double(settings.frameRateLimit), burst: Double(settings.frameRateLimit * 10), now: now)
        }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let interval = TimeAmount.milliseconds(max(1000, min(settings.idleTimeout / 4, 60_000)))
        idleCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let handler = loopBound.value
            if WallClock.milliseconds() - handler.lastInput >= handler.settings.idleTimeout {
                channel.close(promise: nil)
            }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let now = WallClock.milliseconds()
        pipeline.receive(buffer.readableBytesView, at: now, into: &outputs)
        var frames = 0
        for case .decoded in outputs { frames += 1 }
        // The idle timeout is "time without a frame": bytes that never complete one (a slow
        // loris dripping a byte a second, or garbage) must not keep the connection open.
        if frames > 0 { lastInput = now }
        deliver(now: now)
        if var bucket, frames > 0 {
            let pause = bucket.take(frames, now: now)
            self.bucket = bucket
            if pause > 0, !paused {
                hub.rateLimited(peer: pipeline.source.peer, deviceID: pipeline.deviceID, pauseMilliseconds: pause, now: now)
                pauseReading(context: context, milliseconds: pause)
            }
        }
        if hub.sink.isCongested {
            pauseReading(context: context, milliseconds: 100)
        }
        scheduleHeldTick(on: context.eventLoop)
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        heldTick?.cancel()
        pipeline.close(at: WallClock.milliseconds(), into: &outputs)
        deliver(now: WallClock.milliseconds())
        hub.unregister(session)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func deliver(now: Int64) {
        guard !outputs.isEmpty else { return }
        if let channel {
            for case .answer(let bytes) in outputs {
                channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
            }
        }
        hub.handle(outputs, session: session, source: pipeline.source, ip: ip, now: now)
        outputs.removeAll(keepingCapacity: true)
    }

    /// Stops reading for a while; bytes wait in the socket buffers, then in the device.
    private func pauseReading(context: ChannelHandlerContext, milliseconds: Int64) {
        pauseReading(channel: context.channel, milliseconds: milliseconds)
    }

    private func pauseReading(channel: any Channel, milliseconds: Int64) {
        guard !paused else { return }
        paused = true
        channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        let loopBound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        channel.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
            loopBound.value.resumeReading(channel: channel)
        }
    }

    /// Reads already under way when the pause began (NIO finishes its read loop) may have
    /// deepened the rate-limit debt: pause again until it is paid, so the long-run rate stays
    /// within `--frame-rate-limit` whatever the chunking; likewise while the sink is congested.
    private func resumeReading(channel: any Channel) {
        paused = false
        var wait: Int64 = hub.sink.isCongested ? 100 : 0
        if var bucket {
            wait = max(wait, bucket.take(0, now: WallClock.milliseconds()))
            self.bucket = bucket
        }
        if wait > 0 {
            pauseReading(channel: channel, milliseconds: wait)
        } else {
            channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
    }

    /// Held frames must age out even when the device goes quiet.
    private func scheduleHeldTick(on eventLoop: any EventLoop) {
        guard heldTick == nil, pipeline.session.heldCount > 0 else { return }
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        heldTick = eventLoop.scheduleTask(in: .milliseconds(pipeline.context.limits.heldFramesMaxAge + 1000)) {
            let handler = loopBound.value
            handler.heldTick = nil
            let now = WallClock.milliseconds()
            handler.pipeline.tick(now: now, into: &handler.outputs)
            handler.deliver(now: now)
            handler.scheduleHeldTick(on: eventLoop)
        }
    }
}
