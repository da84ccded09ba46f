import Logging
import Synchronization

/// A logger that keeps every line with its level, to check what the client says and how often.
final class LogCapture: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
    }

    private let storage = Mutex<[Line]>([])

    var lines: [Line] { storage.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test.mosquitto") { _ in Handler(capture: self) }
    }

    /// Lines containing `text`, at `level` or above when given.
    func lines(containing text: String, atLeast level: Logger.Level = .trace) -> [Line] {
        lines.filter { $0.message.contains(text) && $0.level >= level }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.storage.withLock { $0.append(Line(level: event.level, message: "\(event.message)")) }
        }
    }
}
