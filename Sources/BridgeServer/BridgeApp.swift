import Logging
import Synchronization

/// The `serve` entry point: sets up logging as configured, raises the open-file limit, then
/// runs a `Bridge` until SIGTERM or SIGINT.
public enum BridgeApp {
    public static func run(options: BridgeOptions) async throws {
        BridgeLogging.bootstrap(format: options.logFormat, level: options.logLevel)
        var logger = Logger(label: "cctr-bridge")
        logger.logLevel = options.logLevel
        logger[metadataKey: "instance"] = "\(options.instance)"
        if let limits = OpenFileLimit.raiseSoftLimit() {
            if let warning = OpenFileLimit.shortfall(hard: limits.hard, maxConnections: options.maxConnections) {
                logger.warning("\(warning)")
            }
        }
        let bridge = try Bridge(options: options, logger: logger)
        try await bridge.run(handleSignals: true)
    }
}

/// Installs the process-wide log handler once: swift-log's text handler on stderr, or one
/// JSON object per line for log collectors.
public enum BridgeLogging {
    private static let done = Mutex(false)

    public static func bootstrap(format: LogFormat, level: Logger.Level) {
        let first = done.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = switch format {
            case .text: StreamLogHandler.standardError(label: label)
            case .json: JSONLogHandler(label: label)
            }
            handler.logLevel = level
            return handler
        }
    }
}
