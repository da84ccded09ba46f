import Foundation
import Spool
import Testing

/// Throughput of append, take and acknowledge, one producer and one consumer running
/// concurrently. Not a unit test: run it on purpose, in release mode, with
/// `SPOOL_THROUGHPUT=1 swift test -c release --filter SpoolThroughput`.
@Suite("SpoolThroughput", .enabled(if: ProcessInfo.processInfo.environment["SPOOL_THROUGHPUT"] != nil))
struct SpoolThroughputTests {
    @Test(arguments: ["memory", "always", "interval", "never"])
    func appendTakeAcknowledge(kind: String) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let configuration =
            kind == "memory"
            ? SpoolConfiguration(storage: .memory)
            : SpoolConfiguration(storage: .directory(directory.path), syncMode: .init(rawValue: kind)!)
        let spool = try Spool(configuration: configuration, logger: quietLogger)
        let count = 200_000
        let producers = kind == "always" ? 64 : 1
        let payload = record(0, size: 300)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for producer in 0..<producers {
                group.addTask {
                    for _ in stride(from: producer, to: count, by: producers) {
                        _ = try await spool.append(payload)
                    }
                }
            }
            group.addTask {
                var received = 0
                while received < count {
                    let batch = try await spool.take(upTo: 512)
                    spool.acknowledge(batch.map(\.id))
                    received += batch.count
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let statistics = spool.statistics
        print(
            "spool throughput \(kind): \(count) records of 300 B in \(String(format: "%.2f", seconds)) s = \(Int(Double(count) / seconds)) records/s, \(statistics.syncs) syncs, \(producers) producer(s)"
        )
        #expect(statistics.pendingRecords == 0)
        await spool.close()
    }
}
