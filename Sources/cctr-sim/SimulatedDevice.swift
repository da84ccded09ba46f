import NIOCore
import NIOPosix

/// One simulated tracker on the network: its connection (a TCP stream or a connected UDP
/// socket with its own source port), reconnection with backoff, what it sends on each tick
/// (its `DeviceShard` calls `tick()`), and its answers to downlink messages. What it sends
/// comes from `TrackerBehavior`.
///
/// Not `Sendable`: it belongs to a `DeviceShard` and is only ever touched on `eventLoop`,
/// which is also the event loop of its channel.
final class SimulatedDevice {
    enum Transport: String, Sendable {
        case tcp, udp
    }

    /// What all devices of a run share.
    struct Environment: Sendable {
        let address: SocketAddress
        let counters: SimCounters
        let sendLog: SendLog?
        let log: ConsoleLog
        /// Local addresses TCP devices bind to before connecting, device `i` to entry
        /// `i % count` (`--source-addresses`); empty: the system chooses.
        var sourceAddresses: [SocketAddress] = []
    }

    private static let connectTimeout = TimeAmount.seconds(10)
    private static let firstBackoffSeconds = 1.0
    private static let maximumBackoffSeconds = 30.0

    private let eventLoop: any EventLoop
    private let transport: Transport
    private let environment: Environment
    private let sourceAddress: SocketAddress?
    private var behavior: TrackerBehavior
    /// Jitter for reconnect delays, apart from `behavior`'s stream so that network trouble
    /// does not change which frames the device sends.
    private var jitter: SimRandom
    private var channel: (any Channel)?
    private var connecting = false
    private var stopped = false
    /// Ticks before the first connection are not counted as offline: the device has not started.
    private var everConnected = false
    private var failuresInARow = 0
    private var reconnectTask: Scheduled<Void>?

    init(
        index: Int, transport: Transport, dialect: TrackerBehavior.Dialect = .carscop, settings: TrackerSettings,
        environment: Environment, eventLoop: any EventLoop
    ) {
        self.eventLoop = eventLoop
        self.transport = transport
        self.environment = environment
        sourceAddress = environment.sourceAddresses.isEmpty ? nil : environment.sourceAddresses[index % environment.sourceAddresses.count]
        self.behavior = TrackerBehavior(index: index, settings: settings, dialect: dialect)
        self.jitter = SimRandom(seed: ~settings.seed, stream: UInt64(index))
    }

    /// Connects after `delay` (the `--connect-rate` ramp).
    func start(after delay: TimeAmount) {
        reconnectTask = eventLoop.assumeIsolated().scheduleTask(in: delay) {
            self.reconnectTask = nil
            self.connect()
        }
    }

    /// A random offset in `0 ..< interval` for the first tick, so devices do not tick together.
    func phase(of interval: Double) -> Double {
        behavior.phase(of: interval)
    }

    /// Stops reconnecting and closes the connection.
    func stop() -> EventLoopFuture<Void> {
        stopped = true
        reconnectTask?.cancel()
        guard let channel else { return eventLoop.makeSucceededVoidFuture() }
        self.channel = nil
        return channel.close().recover { _ in }
    }

    /// Text the server sent to this device.
    func received(_ text: String) {
        let messages = DeviceReplies.messages(in: text)
        environment.counters.record {
            $0.downlinkBytes += text.utf8.count
            $0.downlinkMessages += messages.count
        }
        for message in messages {
            let frames = behavior.answer(message, atNanoseconds: WallClock.nowNanoseconds())
            if frames.isEmpty {
                environment.log.debug("\(behavior.deviceID) received \(message.debugDescription)")
            } else if let channel {
                environment.counters.record { $0.positionRequestsAnswered += 1 }
                send(frames, on: channel)
            }
        }
    }

    /// The channel went inactive: reconnect unless we closed it.
    func channelClosed(_ closed: any Channel) {
        guard let channel, channel === closed else { return }
        self.channel = nil
        guard !stopped else { return }
        if transport == .tcp {
            environment.counters.record { $0.connectionsClosedByPeer += 1 }
        }
        environment.log.debug("\(behavior.deviceID) lost its \(transport.rawValue) connection")
        scheduleReconnect()
    }

    func socketError(_ error: any Error) {
        environment.counters.record { $0.socketErrors += 1 }
        environment.log.debug("\(behavior.deviceID) \(transport.rawValue) socket error: \(error)")
    }

    /// One periodic frame, unless the device is offline or its socket is backed up.
    func tick() {
        guard !stopped, everConnected else { return }
        guard let channel, channel.isActive else {
            environment.counters.record { $0.ticksSkippedOffline += 1 }
            return
        }
        guard channel.isWritable else {
            environment.counters.record { $0.ticksSkippedBackpressure += 1 }
            return
        }
        send([behavior.tickFrame(atNanoseconds: WallClock.nowNanoseconds())], on: channel)
    }

    private func connect() {
        guard !stopped, channel == nil, !connecting else { return }
        connecting = true
        let device = NIOLoopBound(self, eventLoop: eventLoop)
        let connection: EventLoopFuture<any Channel>
        switch transport {
        case .tcp:
            var bootstrap = ClientBootstrap(group: eventLoop)
            if let sourceAddress { bootstrap = bootstrap.bind(to: sourceAddress) }
            connection = bootstrap
                .connectTimeout(Self.connectTimeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TCPDeviceHandler(device: device.value))
                    }
                }
                .connect(to: environment.address)
        case .udp:
            connection = DatagramBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UDPDeviceHandler(device: device.value))
                    }
                }
                .connect(to: environment.address)
        }
        connection.assumeIsolated().whenComplete { result in
            self.connectCompleted(result)
        }
    }

    private func connectCompleted(_ result: Result<any Channel, any Error>) {
        connecting = false
        switch result {
        case .success(let channel):
            guard !stopped else {
                channel.close(promise: nil)
                return
            }
            self.channel = channel
            failuresInARow = 0
            environment.counters.record {
                if transport == .tcp { $0.connectionsOpened += 1 } else { $0.udpSocketsOpened += 1 }
            }
            everConnected = true
            send(behavior.connectFrames(atNanoseconds: WallClock.nowNanoseconds()), on: channel)
        case .failure(let error):
            environment.counters.record {
                if transport == .tcp { $0.connectionsFailed += 1 } else { $0.udpSocketsFailed += 1 }
            }
            environment.log.debug("\(behavior.deviceID) could not connect: \(error)")
            scheduleReconnect()
        }
    }

    /// Exponential backoff with wide jitter, so that thousands of devices dropped together
    /// (a server restart) come back spread out instead of in one burst.
    private func scheduleReconnect() {
        guard !stopped, reconnectTask == nil else { return }
        let backoff = min(Self.firstBackoffSeconds * Double(1 << min(failuresInARow, 16)), Self.maximumBackoffSeconds)
        failuresInARow += 1
        let delay = backoff * jitter.uniform(0.1...1.0)
        reconnectTask = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(delay * 1e9))) {
            self.reconnectTask = nil
            self.connect()
        }
    }

    /// Writes `frames` as one TCP write or one datagram, and counts them once the write succeeded.
    private func send(_ frames: [TrackerBehavior.Frame], on channel: any Channel) {
        let issued = WallClock.nowNanoseconds()
        var buffer = channel.allocator.buffer(capacity: frames.reduce(0) { $0 + $1.bytes.count })
        for frame in frames {
            buffer.writeBytes(frame.bytes)
        }
        let bytes = buffer.readableBytes
        let promise = eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(buffer, promise: promise)
        let deviceID = behavior.deviceID
        let environment = self.environment
        let transport = self.transport
        promise.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success:
                environment.counters.record {
                    for frame in frames {
                        $0.framesSent[frame.word.rawValue, default: 0] += 1
                    }
                    $0.bytesSent += bytes
                    if transport == .udp { $0.datagramsSent += 1 }
                }
                if let sendLog = environment.sendLog {
                    for frame in frames {
                        if let sequence = frame.sequence {
                            sendLog.append(deviceID: deviceID, sequence: sequence, unixNanoseconds: issued)
                        }
                    }
                }
            case .failure(let error):
                environment.counters.record { $0.writeErrors += 1 }
                environment.log.debug("\(deviceID) write failed: \(error)")
            }
        }
    }
}
