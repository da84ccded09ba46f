import BridgeCore
import NIOCore

/// One TCP connection from a tracker: bytes in, through a `ConnectionPipeline`, outputs to
/// the `DeviceHub`. Runs on the channel's event loop only, so it holds its state without
/// locks.
///
/// A connection pays for its own bytes, whoever else shares its address (carrier NAT puts
/// many trackers behind one):
/// - the frame-rate limit, the byte budget and a congested sink pause reading, by
///   withholding the `read` that NIO asks for after each read (as postgres-nio does), so
///   nothing is buffered: excess bytes wait in the kernel and then in the device;
/// - a connection that sends more than two maximum frames of bytes without one valid frame
///   is counted and logged, then held unread in the `Tarpit` and closed: it is not a
///   tracker, and reading it costs every tracker on its event loop;
/// - a connection that completes no frame for `--idle-timeout` is closed (bytes alone do
///   not count: a slow loris never completes one).
///
/// Durations (limits, idle time) come from the event loop's monotonic `now`, timestamps
/// (`received_at`, the age of held frames) from the injected wall clock; an
/// `EmbeddedEventLoop` drives both in virtual time.
final class TrackerTCPHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// How long reading stays paused while the sink reports congestion, before looking again.
    static let congestionPause: Int64 = 100

    private var pipeline: ConnectionPipeline
    private let hub: DeviceHub
    private let settings: ListenerSettings
    private let tarpit: Tarpit
    private let ip: String
    private let wallClock: @Sendable () -> Int64
    /// Bytes without a valid frame past which the connection is closed.
    private let garbageLimit: Int
    private var session: DeviceDirectory.SessionID = 0
    private var outputs: [ConnectionPipeline.Output] = []
    private var frameBucket: TokenBucket?
    private var byteBucket: TokenBucket?
    private var bytesWithoutFrame = 0
    private var lastFrame: Int64 = 0
    private var paused = false
    /// NIO asked to read while reading was paused: read once the pause ends.
    private var readWithheld = false
    /// No more input is read or handled: the connection is closing, or held in the tarpit.
    private var closing = false
    private var heldInTarpit = false
    private var resumeTask: Scheduled<Void>?
    private var heldTick: Scheduled<Void>?
    private var idleCheck: Scheduled<Void>?
    private var tarpitRelease: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(
        context: ConnectionPipeline.Context, hub: DeviceHub, settings: ListenerSettings, tarpit: Tarpit, peer: String, ip: String,
        instance: String, wallClock: @escaping @Sendable () -> Int64
    ) {
        pipeline = ConnectionPipeline(context: context, source: PayloadSource(transport: .tcp, peer: peer, instance: instance))
        self.hub = hub
        self.settings = settings
        self.tarpit = tarpit
        self.ip = ip
        self.wallClock = wallClock
        garbageLimit = 2 * context.codec.maxFrameBytes
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let buffer = unwrapInboundIn(data)
        let now = wallClock()
        let elapsed = monotonicMilliseconds(context.eventLoop)
        let readAt = settings.stageTrace?.now()
        pipeline.receive(buffer.readableBytesView, at: now, into: &outputs)
        var frames = 0
        for case .decoded in outputs { frames += 1 }
        let decodedAt = frames > 0 ? settings.stageTrace?.now() : nil
        deliver(now: now)
        settings.stageTrace?.readHandled(readAt: readAt, decodedAt: decodedAt)
        if frames > 0 {
            lastFrame = elapsed
            bytesWithoutFrame = 0
        } else {
            bytesWithoutFrame += buffer.readableBytes
            if bytesWithoutFrame > garbageLimit {
                reject(context: context)
                return
            }
        }
        var pause: Int64 = 0
        if var bucket = frameBucket, frames > 0 {
            let wait = bucket.take(frames, now: elapsed)
            frameBucket = bucket
            if wait > 0, !paused {
                hub.readingPaused(.frameRate, peer: pipeline.source.peer, ip: ip, deviceID: pipeline.deviceID, pauseMilliseconds: wait, now: now)
            }
            pause = wait
        }
        if var bucket = byteBucket {
            let wait = bucket.take(buffer.readableBytes, now: elapsed)
            byteBucket = bucket
            if wait > 0, !paused {
                hub.readingPaused(.byteBudget, peer: pipeline.source.peer, ip: ip, deviceID: pipeline.deviceID, pauseMilliseconds: wait, now: now)
            }
            pause = max(pause, wait)
        }
        if hub.sink.isCongested { pause = max(pause, Self.congestionPause) }
        if pause > 0 { pauseReading(context: context, milliseconds: pause) }
        scheduleHeldTick(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        if heldInTarpit {
            heldInTarpit = false
            tarpit.leave()
            hub.metrics.connectionsHeld.record(tarpit.count)
        }
        let now = wallClock()
        pipeline.close(at: now, into: &outputs)
        deliver(now: now)
        hub.unregister(session)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// NIO asks for the next read after every read (autoRead); while paused the request is
    /// kept and honoured when the pause ends, so the socket is not polled meanwhile.
    func read(context: ChannelHandlerContext) {
        if paused || closing {
            readWithheld = true
        } else {
            context.read()
        }
    }

    private func start(context: ChannelHandlerContext) {
        let channel = context.channel
        session = hub.register(DeviceHub.SessionHandle(
            transport: .tcp, peer: pipeline.source.peer,
            close: { channel.close(promise: nil) },
            write: { bytes, done in
                channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).whenComplete { result in
                    if case .success = result { done(true) } else { done(false) }
                }
            }
        ))
        let elapsed = monotonicMilliseconds(context.eventLoop)
        lastFrame = elapsed
        if settings.frameRateLimit > 0 {
            frameBucket = TokenBucket(ratePerSecond: Double(settings.frameRateLimit), burst: Double(settings.frameRateLimit * 10), now: elapsed)
        }
        if settings.bytesPerSecond > 0 {
            byteBucket = TokenBucket(ratePerSecond: Double(settings.bytesPerSecond), burst: Double(settings.byteBurst), now: elapsed)
        }
        scheduleIdleCheck(context: context, in: settings.idleTimeout)
    }

    private func deliver(now: Int64) {
        guard !outputs.isEmpty else { return }
        if let context {
            for case .answer(let bytes) in outputs {
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            }
        }
        hub.handle(outputs, session: session, source: pipeline.source, ip: ip, now: now)
        outputs.removeAll(keepingCapacity: true)
    }

    /// Closes now, or after `milliseconds` without reading another byte meanwhile; counted
    /// and logged now either way.
    private func close(context: ChannelHandlerContext, reason: ConnectionCloseReason, detail: String, after milliseconds: Int64 = 0) {
        guard !closing else { return }
        closing = true
        hub.closedConnection(reason, peer: pipeline.source.peer, ip: ip, deviceID: pipeline.deviceID, detail: detail, now: wallClock())
        guard milliseconds > 0 else {
            context.close(promise: nil)
            return
        }
        cancelTimers()
        let channel = context.channel
        tarpitRelease = context.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
            channel.close(promise: nil)
        }
    }

    /// Not a tracker: counted and logged now, then held unread for the tarpit's time and
    /// closed, or closed at once when the tarpit is full.
    private func reject(context: ChannelHandlerContext) {
        guard tarpit.enter() else {
            close(context: context, reason: .noValidFrame, detail: "\(bytesWithoutFrame) bytes without a valid frame")
            return
        }
        heldInTarpit = true
        hub.metrics.connectionsHeld.record(tarpit.count)
        let hold = min(tarpit.holdMilliseconds, settings.idleTimeout)
        close(
            context: context, reason: .noValidFrame,
            detail: "\(bytesWithoutFrame) bytes without a valid frame; held unread for \(hold) ms before closing",
            after: hold)
    }

    /// Stops reading for a while; bytes wait in the socket buffers, then in the device.
    private func pauseReading(context: ChannelHandlerContext, milliseconds: Int64) {
        guard !paused else { return }
        paused = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        resumeTask = context.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
            loopBound.value.resumeReading()
        }
    }

    /// Reads already under way when the pause began may have deepened the debt: pause again
    /// until it is paid, so the long-run rates stay within the limits whatever the chunking;
    /// likewise while the sink is congested.
    private func resumeReading() {
        resumeTask = nil
        paused = false
        guard let context, !closing else { return }
        let elapsed = monotonicMilliseconds(context.eventLoop)
        var wait: Int64 = hub.sink.isCongested ? Self.congestionPause : 0
        if var bucket = frameBucket {
            wait = max(wait, bucket.take(0, now: elapsed))
            frameBucket = bucket
        }
        if var bucket = byteBucket {
            wait = max(wait, bucket.take(0, now: elapsed))
            byteBucket = bucket
        }
        if wait > 0 {
            pauseReading(context: context, milliseconds: wait)
        } else if readWithheld {
            readWithheld = false
            context.read()
        }
    }

    /// Closes the connection once no frame has completed for `--idle-timeout`; checks only
    /// when that could be true, so a busy connection costs no timer per frame.
    private func scheduleIdleCheck(context: ChannelHandlerContext, in milliseconds: Int64) {
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        idleCheck = context.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
            let handler = loopBound.value
            guard let context = handler.context else { return }
            let quiet = handler.monotonicMilliseconds(context.eventLoop) - handler.lastFrame
            if quiet >= handler.settings.idleTimeout {
                handler.close(context: context, reason: .idle, detail: "no frame for \(quiet / 1000) s")
            } else {
                handler.scheduleIdleCheck(context: context, in: handler.settings.idleTimeout - quiet)
            }
        }
    }

    /// Held frames must age out even when the device goes quiet.
    private func scheduleHeldTick(context: ChannelHandlerContext) {
        guard heldTick == nil, pipeline.session.heldCount > 0 else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        heldTick = context.eventLoop.scheduleTask(in: .milliseconds(pipeline.context.limits.heldFramesMaxAge + 1000)) {
            let handler = loopBound.value
            handler.heldTick = nil
            guard let context = handler.context else { return }
            let now = handler.wallClock()
            handler.pipeline.tick(now: now, into: &handler.outputs)
            handler.deliver(now: now)
            handler.scheduleHeldTick(context: context)
        }
    }

    private func cancelTimers() {
        idleCheck?.cancel()
        heldTick?.cancel()
        resumeTask?.cancel()
        tarpitRelease?.cancel()
    }

    private func monotonicMilliseconds(_ eventLoop: any EventLoop) -> Int64 {
        Int64(eventLoop.now.uptimeNanoseconds / 1_000_000)
    }
}
