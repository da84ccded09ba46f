import BridgeCore
import NIOCore

/// The UDP listener: each source address is a session with its own `ConnectionPipeline`,
/// bound to the device id of a `UB05` seen from it. Every datagram is a complete byte
/// stream (an open frame at its end is dead-lettered). Sessions expire after the idle
/// timeout; bindings are remembered in the `UDPBindings` store so a restart keeps them.
///
/// A source address pays for its bytes as a TCP connection does (the byte budget), but a
/// socket shared by every UDP tracker cannot stop reading for one of them: datagrams over
/// the budget are dropped before they are parsed, and counted. A flood from a few
/// addresses then costs a hash lookup per datagram instead of a dead letter each.
final class TrackerUDPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private struct Session {
        var pipeline: ConnectionPipeline
        var id: DeviceDirectory.SessionID
        var address: SocketAddress
        var ip: String
        var lastInput: Int64
        var budget: TokenBucket?
        /// Dropping datagrams since the last one admitted: logged once per spell.
        var overBudget = false
    }

    private let context: ConnectionPipeline.Context
    private let hub: DeviceHub
    private let settings: ListenerSettings
    private let instance: String
    private let bindings: UDPBindings?
    private let wallClock: @Sendable () -> Int64
    private var sessions: [SocketAddress: Session] = [:]
    private var outputs: [ConnectionPipeline.Output] = []
    private var sweep: RepeatedTask?
    private var channel: (any Channel)?

    init(
        context: ConnectionPipeline.Context, hub: DeviceHub, settings: ListenerSettings, instance: String, bindings: UDPBindings?,
        wallClock: @escaping @Sendable () -> Int64
    ) {
        self.context = context
        self.hub = hub
        self.settings = settings
        self.instance = instance
        self.bindings = bindings
        self.wallClock = wallClock
    }

    func channelActive(context: ChannelHandlerContext) {
        channel = context.channel
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let interval = TimeAmount.milliseconds(max(1000, min(settings.idleTimeout / 4, 30_000)))
        sweep = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let handler = loopBound.value
            handler.expireIdle(now: handler.wallClock())
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let now = wallClock()
        let address = envelope.remoteAddress
        var session = sessions.removeValue(forKey: address) ?? openSession(address: address, channel: context.channel, now: now)
        if var budget = session.budget {
            let admitted = budget.admit(envelope.data.readableBytes, now: Self.monotonicMilliseconds(context.eventLoop))
            session.budget = budget
            guard admitted else {
                hub.metrics.udpDatagramsDropped.increment()
                if !session.overBudget {
                    session.overBudget = true
                    hub.readingPaused(
                        .datagramBudget, peer: session.pipeline.source.peer, ip: session.ip, deviceID: session.pipeline.deviceID,
                        pauseMilliseconds: nil, now: now
                    )
                }
                sessions[address] = session
                return
            }
            session.overBudget = false
        }
        session.lastInput = now
        let readAt = settings.stageTrace?.now()
        session.pipeline.receive(envelope.data.readableBytesView, at: now, into: &outputs)
        session.pipeline.endOfInput(at: now, into: &outputs)
        let decodedAt = settings.stageTrace.flatMap { trace in
            outputs.contains { if case .decoded = $0 { true } else { false } } ? trace.now() : nil
        }
        deliver(session, now: now)
        settings.stageTrace?.readHandled(readAt: readAt, decodedAt: decodedAt)
        sessions[address] = session
        if let deviceID = session.pipeline.deviceID {
            bindings?.bind(peer: session.pipeline.source.peer, deviceID: deviceID, now: now)
        }
        hub.metrics.setConnections(.udp, sessions.count)
    }

    func channelInactive(context: ChannelHandlerContext) {
        sweep?.cancel()
        let now = wallClock()
        for (_, var session) in sessions {
            close(&session, now: now)
        }
        sessions.removeAll()
        hub.metrics.setConnections(.udp, 0)
        context.fireChannelInactive()
    }

    private func openSession(address: SocketAddress, channel: any Channel, now: Int64) -> Session {
        let peer = PeerAddress.describe(address)
        let id = hub.register(DeviceHub.SessionHandle(
            transport: .udp, peer: peer,
            close: {},
            write: { bytes, done in
                let envelope = AddressedEnvelope(remoteAddress: address, data: channel.allocator.buffer(bytes: bytes))
                channel.writeAndFlush(envelope).whenComplete { result in
                    if case .success = result { done(true) } else { done(false) }
                }
            }
        ))
        var session = Session(
            pipeline: ConnectionPipeline(context: context, source: PayloadSource(transport: .udp, peer: peer, instance: instance)),
            id: id, address: address, ip: address.ipAddress ?? peer, lastInput: now
        )
        if settings.bytesPerSecond > 0 {
            session.budget = TokenBucket(
                ratePerSecond: Double(settings.bytesPerSecond), burst: Double(settings.byteBurst),
                now: Self.monotonicMilliseconds(channel.eventLoop)
            )
        }
        if let deviceID = bindings?.deviceID(forPeer: peer, now: now, maxAge: settings.idleTimeout) {
            session.pipeline.resume(deviceID: deviceID)
        }
        return session
    }

    private func deliver(_ session: Session, now: Int64) {
        guard !outputs.isEmpty else { return }
        if let channel {
            for case .answer(let bytes) in outputs {
                let envelope = AddressedEnvelope(remoteAddress: session.address, data: channel.allocator.buffer(bytes: bytes))
                channel.writeAndFlush(envelope, promise: nil)
            }
        }
        hub.handle(outputs, session: session.id, source: session.pipeline.source, ip: session.ip, now: now)
        outputs.removeAll(keepingCapacity: true)
    }

    private static func monotonicMilliseconds(_ eventLoop: any EventLoop) -> Int64 {
        Int64(eventLoop.now.uptimeNanoseconds / 1_000_000)
    }

    private func close(_ session: inout Session, now: Int64) {
        session.pipeline.close(at: now, into: &outputs)
        deliver(session, now: now)
        hub.unregister(session.id)
    }

    private func expireIdle(now: Int64) {
        for (address, var session) in sessions {
            if now - session.lastInput >= settings.idleTimeout {
                sessions[address] = nil
                close(&session, now: now)
                bindings?.unbind(peer: session.pipeline.source.peer)
            } else if session.pipeline.session.heldCount > 0 {
                session.pipeline.tick(now: now, into: &outputs)
                deliver(session, now: now)
                sessions[address] = session
            }
        }
        bindings?.scheduleSave()
        hub.metrics.setConnections(.udp, sessions.count)
    }
}

enum PeerAddress {
    /// `203.0.113.9:40112` or `[2001:db8::1]:40112`.
    static func describe(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "unknown" }
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }
}
