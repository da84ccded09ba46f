import Foundation

/// Diagnostics on stderr (stdout is kept for `--dry-run` frames and the report).
struct ConsoleLog: Sendable {
    var debugEnabled: Bool

    func debug(_ message: @autoclosure () -> String) {
        if debugEnabled { write("debug", message()) }
    }

    func info(_ message: String) {
        write("info", message)
    }

    func warning(_ message: String) {
        write("warning", message)
    }

    private func write(_ level: String, _ message: String) {
        FileHandle.standardError.write(Data("cctr-sim \(level): \(message)\n".utf8))
    }
}
