import Foundation

/// Reads `cctr-sim --send-log` (and `cctr-bench publish --send-log`) files: one
/// `device_id seq unix_time_ns` line per sent frame.
enum SendLogReader {
    struct Entry: Equatable {
        var deviceID: String
        var sequence: UInt64
        var unixNanoseconds: Int64
    }

    /// Waits up to `wait` for the file to appear: the raw publisher writes its log only when
    /// it has finished, which can be after the subscriber has.
    static func read(path: String, wait: Duration = .seconds(60)) async throws -> [Entry] {
        let deadline = ContinuousClock.now + wait
        while !FileManager.default.fileExists(atPath: path), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return parse(text)
    }

    /// Lines that do not have three fields of the right kinds are skipped (a log cut short by
    /// a killed sender ends in a partial line).
    static func parse(_ text: String) -> [Entry] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 3, let sequence = UInt64(fields[1]), let time = Int64(fields[2]) else { return nil }
            return Entry(deviceID: String(fields[0]), sequence: sequence, unixNanoseconds: time)
        }
    }
}
