import BridgeCore
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The device-facing sockets: a TCP server or a UDP socket per listen address (each with
/// transport `.tcp` or `.udp`; `ListenAddress.split` turns a bare address into both), all
/// feeding the same `DeviceHub`.
public final class TrackerListeners: Sendable {
    private let endpoints: [ListenAddress]
    private let group: any EventLoopGroup
    private let context: ConnectionPipeline.Context
    private let hub: DeviceHub
    private let settings: ListenerSettings
    private let instance: String
    private let bindings: UDPBindings?
    private let logger: Logger
    private let limiter: ConnectionLimiter
    private let tarpit = Tarpit()
    private let channels = Mutex<[any Channel]>([])
    private let connections = OpenChannels()

    public init(
        endpoints: [ListenAddress], group: any EventLoopGroup, context: ConnectionPipeline.Context, hub: DeviceHub,
        settings: ListenerSettings, instance: String, bindings: UDPBindings?, logger: Logger
    ) {
        self.endpoints = endpoints
        self.group = group
        self.context = context
        self.hub = hub
        self.settings = settings
        self.instance = instance
        self.bindings = bindings
        self.logger = logger
        limiter = ConnectionLimiter(maxTotal: settings.maxConnections, maxPerIP: settings.maxConnectionsPerIP)
    }

    /// Binds every endpoint; returns them with the ports actually bound (for port 0).
    public func start() async throws -> [ListenAddress] {
        var bound: [ListenAddress] = []
        for endpoint in endpoints {
            let channel: any Channel
            do {
                channel = endpoint.transport == .udp ? try await bindUDP(endpoint) : try await bindTCP(endpoint)
            } catch {
                throw StartupError.bind(error, option: "listen", address: endpoint.description)
            }
            channels.withLock { $0.append(channel) }
            var actual = endpoint
            actual.port = channel.localAddress?.port ?? endpoint.port
            bound.append(actual)
            logger.info("listening", metadata: ["endpoint": "\(actual)"])
        }
        return bound
    }

    /// Stops accepting, then closes every open device session (which publishes their
    /// `offline` and dead-letters frames still held).
    public func stop() async {
        let listening = channels.withLock { channels in
            defer { channels.removeAll() }
            return channels
        }
        for channel in listening {
            try? await channel.close()
        }
        let open = connections.all
        for channel in open {
            try? await channel.close()
        }
    }

    public var openConnections: Int { limiter.total }

    private func bindTCP(_ endpoint: ListenAddress) async throws -> any Channel {
        let context = self.context
        let hub = self.hub
        let settings = self.settings
        let instance = self.instance
        let limiter = self.limiter
        let tarpit = self.tarpit
        let logger = self.logger
        let connections = self.connections
        return try await ServerBootstrap(group: group)
            // Trackers that connect during a connection flood wait in the kernel's queue until
            // accepted, rather than being refused (Linux caps this at net.core.somaxconn).
            .serverChannelOption(.backlog, value: 4096)
            // Accepts per turn of the listener's event loop: enough to drain a flood of
            // connections quickly, few enough that one turn stays short for the trackers
            // served on the same loop.
            .serverChannelOption(.maxMessagesPerRead, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Accepted sockets inherit a small receive buffer (Linux doubles it to 32 KiB): far
            // more than a tracker has in flight, while a flood sends only that much before
            // the bridge reads it, judges it and closes the connection, instead of megabytes
            // that the kernel copies and then frees at close.
            .serverChannelOption(.socketOption(.so_rcvbuf), value: 16_384)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptFailureHandler(metrics: hub.metrics, logger: logger))
                }
            }
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Fair reads: one read of at most 4 KiB per connection per turn of its event loop,
            // so a connection sending as fast as it can delays the trackers on its loop by one
            // small read, not by NIO's default of four reads of up to 64 KiB. A tracker sends
            // a frame of about 100 bytes at a time.
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 4096))
            .childChannelInitializer { channel in
                let peer = PeerAddress.describe(channel.remoteAddress)
                let ip = channel.remoteAddress?.ipAddress ?? peer
                guard limiter.acquire(ip: ip) else {
                    hub.metrics.connectionsRefused.increment()
                    logger.warning("connection refused: limit reached", metadata: ["peer": "\(peer)"])
                    return channel.close()
                }
                hub.metrics.setConnections(.tcp, limiter.total)
                let key = ObjectIdentifier(channel)
                connections.insert(channel, key: key)
                channel.closeFuture.whenComplete { _ in
                    limiter.release(ip: ip)
                    connections.remove(key)
                    hub.metrics.setConnections(.tcp, limiter.total)
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TrackerTCPHandler(
                        context: context, hub: hub, settings: settings, tarpit: tarpit, peer: peer, ip: ip,
                        instance: instance, wallClock: WallClock.milliseconds
                    ))
                }
            }
            .bind(host: endpoint.host, port: endpoint.port)
            .get()
    }

    private func bindUDP(_ endpoint: ListenAddress) async throws -> any Channel {
        let context = self.context
        let hub = self.hub
        let settings = self.settings
        let instance = self.instance
        let bindings = self.bindings
        return try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            // Up to 16 datagrams per recvmmsg call, each in its own 64 KiB slot of one buffer
            // (NIO splits the buffer evenly, so nothing is cut short): a flood of datagrams
            // costs a system call per 16, not one each.
            .channelOption(.datagramVectorReadMessageCount, value: 16)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16 * 65_536))
            // Each queued datagram costs the kernel about 1 KiB of buffer, so the default
            // (~208 KiB) overflows and drops positions after a ~0.1 s stall at 2,000 frames/s.
            // Linux caps this at net.core.rmem_max.
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            // One socket carries every UDP tracker, but NIO serves it like any TCP connection:
            // 4 datagrams per poll round by default. With a thousand busy TCP connections on
            // the same loop that starved it until the kernel buffer overflowed (measured: 14,296
            // datagrams dropped in 10 s at 2,700 datagrams/s). 16 vector reads of 16 drain 256
            // datagrams each round.
            .channelOption(.maxMessagesPerRead, value: 16)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TrackerUDPHandler(
                        context: context, hub: hub, settings: settings, instance: instance, bindings: bindings,
                        wallClock: WallClock.milliseconds
                    ))
                }
            }
            .bind(host: endpoint.host, port: endpoint.port)
            .get()
    }
}

/// The open device connections, so shutdown can close them.
private final class OpenChannels: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func insert(_ channel: any Channel, key: ObjectIdentifier) {
        channels.withLock { $0[key] = channel }
    }

    func remove(_ key: ObjectIdentifier) {
        _ = channels.withLock { $0.removeValue(forKey: key) }
    }

    var all: [any Channel] { channels.withLock { Array($0.values) } }
}
