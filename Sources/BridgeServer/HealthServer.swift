import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The HTTP endpoint on `--metrics-listen`: `/metrics` (Prometheus text), `/healthz` (the
/// process is up) and `/readyz` (listeners up and broker connected; 503 with the reason
/// otherwise), `/debug/stages` (with `--trace-stages`, `StageTrace`), and the operator's
/// status page with its JSON API (`StatusEndpoints`). Kept
/// on its own address, loopback by default, away from the device port.
public final class HealthServer: Sendable {
    public typealias Readiness = @Sendable () -> (ready: Bool, detail: String)

    private let host: String
    private let port: Int
    private let metrics: BridgeMetrics
    private let readiness: Readiness
    private let refreshMetrics: @Sendable () -> Void
    private let status: StatusEndpoints?
    private let stageTrace: StageTrace?
    private let group: any EventLoopGroup
    private let logger: Logger

    /// `refreshMetrics` runs before each `/metrics` answer, for gauges read from their source
    /// (the spool) rather than updated on the hot path.
    public init(
        host: String, port: Int, metrics: BridgeMetrics, group: any EventLoopGroup, logger: Logger,
        refreshMetrics: @escaping @Sendable () -> Void = {}, stageTrace: StageTrace? = nil, status: StatusEndpoints? = nil,
        readiness: @escaping Readiness
    ) {
        self.status = status
        self.stageTrace = stageTrace
        self.host = host
        self.port = port
        self.metrics = metrics
        self.readiness = readiness
        self.refreshMetrics = refreshMetrics
        self.group = group
        self.logger = logger
    }

    /// Binds and returns the channel (whose local address tells the port when 0 was asked).
    public func bind() async throws -> any Channel {
        let metrics = self.metrics
        let readiness = self.readiness
        let refreshMetrics = self.refreshMetrics
        let status = self.status
        let stageTrace = self.stageTrace
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { [logger] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptFailureHandler(metrics: metrics, logger: logger))
                }
            }
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(HealthHandler(
                        metrics: metrics, refreshMetrics: refreshMetrics, readiness: readiness, status: status, stageTrace: stageTrace))
                }
            }
            .bind(host: host, port: port)
            .get()
    }
}

private final class HealthHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let metrics: BridgeMetrics
    let refreshMetrics: @Sendable () -> Void
    let readiness: HealthServer.Readiness
    let status: StatusEndpoints?
    let stageTrace: StageTrace?

    init(
        metrics: BridgeMetrics, refreshMetrics: @escaping @Sendable () -> Void, readiness: @escaping HealthServer.Readiness,
        status: StatusEndpoints?, stageTrace: StageTrace?
    ) {
        self.stageTrace = stageTrace
        self.metrics = metrics
        self.refreshMetrics = refreshMetrics
        self.readiness = readiness
        self.status = status
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let request) = unwrapInboundIn(data) else { return }
        var headers = HTTPHeaders()
        let (status, contentType, body): (HTTPResponseStatus, String, [UInt8])
        if let answer = self.status?.respond(
            method: request.method, uri: request.uri, headers: request.headers, now: WallClock.milliseconds())
        {
            (status, contentType, body) = (answer.status, answer.contentType, request.method == .HEAD ? [] : answer.body)
            headers.add(contentsOf: answer.headers)
        } else {
            (status, contentType, body) = health(request)
        }
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// `/metrics`, `/healthz`, `/readyz`, `/debug/stages`: open whatever `--http-token` says
    /// (counts and timings, like the metrics).
    private func health(_ request: HTTPRequestHead) -> (HTTPResponseStatus, String, [UInt8]) {
        let parts = request.uri.split(separator: "?", maxSplits: 1)
        let path = parts.first.map(String.init) ?? request.uri
        switch (request.method, path) {
        case (.GET, "/metrics"):
            refreshMetrics()
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", metrics.exposition())
        case (.GET, "/healthz"):
            return (.ok, "text/plain", Array("ok\n".utf8))
        case (.GET, "/debug/stages"):
            guard let stageTrace else { return (.notFound, "text/plain", Array("stage tracing is off: start with --trace-stages\n".utf8)) }
            // `?reset=1` starts the next measurement after this answer (one load phase each).
            let reset = parts.dropFirst().first?.split(separator: "&").contains("reset=1") ?? false
            return (.ok, "application/json", stageTrace.json(reset: reset))
        case (.GET, "/readyz"):
            let (ready, detail) = readiness()
            return (ready ? .ok : .serviceUnavailable, "text/plain", Array((detail + "\n").utf8))
        default:
            return (.notFound, "text/plain", Array("not found\n".utf8))
        }
    }
}
