import Foundation
import Logging
import Synchronization

import Spool
import TestSupport

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("spool-test-\(UUID().uuidString)").path
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    var segmentNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".seg") }.sorted()
    }
}

let quietLogger = Logger(label: "spool-test") { _ in SwiftLogNoOpLogHandler() }

func record(_ number: Int, size: Int = 16) -> [UInt8] {
    var bytes = Array("record-\(number)-".utf8)
    while bytes.count < size { bytes.append(UInt8(truncatingIfNeeded: number &* 31 &+ bytes.count)) }
    return Array(bytes.prefix(max(size, bytes.count)))
}

extension Spool {
    /// Takes until `count` records arrived (or a timeout), for tests.
    func take(exactly count: Int, timeout: Duration = .seconds(5)) async throws -> [SpoolEntry] {
        var entries: [SpoolEntry] = []
        let deadline = ContinuousClock.now + timeout
        while entries.count < count {
            let wanted = count - entries.count
            let batch = try await withThrowingTaskGroup(of: [SpoolEntry]?.self) { group in
                group.addTask { try await self.take(upTo: wanted) }
                group.addTask {
                    try await Task.sleep(until: deadline)
                    return nil
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
            guard let batch, !batch.isEmpty else { break }
            entries += batch
        }
        return entries
    }

    /// Whether `take` returns nothing within a short wait.
    func hasNothingToTake(within wait: Duration = .milliseconds(50)) async throws -> Bool {
        try await take(exactly: 1, timeout: wait).isEmpty
    }
}

/// Keeps the messages logged through it, to check what the spool reports.
struct CapturingLogHandler: LogHandler {
    let messages: LogMessages
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.append("\(event.level): \(event.message) \((event.metadata ?? [:]).sorted { $0.key < $1.key })")
    }
}

final class LogMessages: Sendable {
    private let storage = Mutex<[String]>([])

    func append(_ message: String) {
        storage.withLock { $0.append(message) }
    }

    var all: [String] { storage.withLock { $0 } }
}
