import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// On a listening channel: counts, logs and backs off accepts that fail for lack of
/// descriptors or kernel memory, so that a bridge at its open-file limit says so (metric and
/// one line per 10 s) and waits a second before trying again instead of spinning.
///
/// Why not NIO's `AcceptBackoffHandler`: NIO's server channel clears its read-pending state
/// only when an accept succeeds. When the first accept of a wake-up fails, no new read is
/// requested, so that handler has nothing to delay and the level-triggered listener wakes the
/// event loop again at once, a spin at a full core until a descriptor frees (CI saw 812
/// failed accepts in 0.1 s). Turning autoRead off takes the listener out of epoll whatever
/// that state is; it is turned back on a second later.
final class AcceptFailureHandler: ChannelInboundHandler {
    typealias InboundIn = any Channel

    /// How long the listener stops accepting after a failure.
    static let pause: TimeAmount = .seconds(1)

    private let metrics: BridgeMetrics
    private let logger: Logger
    private var limiter = LogLimiter()
    private var paused = false

    init(metrics: BridgeMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let code = (error as? IOError)?.errnoCode, let reason = Self.reason(code) else {
            context.fireErrorCaught(error)
            return
        }
        metrics.acceptFailed(reason: reason)
        if let suppressed = limiter.admit(reason, now: Int64(context.eventLoop.now.uptimeNanoseconds / 1_000_000)) {
            logger.warning(Self.advice(code), metadata: [
                "suppressed": "\(suppressed)", "listener": "\(context.channel.localAddress.map { "\($0)" } ?? "?")",
            ])
        }
        pauseAccepting(context: context)
    }

    private func pauseAccepting(context: ChannelHandlerContext) {
        guard !paused, let options = context.channel.syncOptions else { return }
        paused = true
        try? options.setOption(.autoRead, value: false)
        context.eventLoop.assumeIsolated().scheduleTask(in: Self.pause) {
            self.paused = false
            // Throws only when the listener closed meanwhile; then there is nothing to resume.
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }

    /// The errors an accept can recover from by waiting; the label of cctr_accept_errors_total.
    private static func reason(_ code: Int32) -> String? {
        switch code {
        case EMFILE: "EMFILE"
        case ENFILE: "ENFILE"
        case ENOBUFS: "ENOBUFS"
        case ENOMEM: "ENOMEM"
        default: nil
        }
    }

    private static func advice(_ code: Int32) -> Logger.Message {
        switch code {
        case EMFILE:
            "open-file limit reached (\(OpenFileLimit.current().map { "\($0.soft)" } ?? "unknown")): raise LimitNOFILE or ulimit -n"
        case ENFILE:
            "the system's open-file table is full (ENFILE): raise fs.file-max or close other processes' files"
        default:
            "the kernel is out of memory for new connections (\(reason(code) ?? "\(code)")): accepting again in a second"
        }
    }
}
