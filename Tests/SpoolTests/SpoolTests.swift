import Foundation
import Logging
import Spool
import TestSupport
import Testing

@Suite("Spool")
struct SpoolTests {
    static let storages: [String] = ["memory", "always", "interval", "never"]

    func configuration(_ kind: String, directory: TemporaryDirectory) -> SpoolConfiguration {
        switch kind {
        case "memory": SpoolConfiguration(storage: .memory)
        default: SpoolConfiguration(storage: .directory(directory.path), syncMode: .init(rawValue: kind)!)
        }
    }

    @Test("records are taken in append order and acknowledged", arguments: storages)
    func appendTakeAcknowledge(kind: String) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try Spool(configuration: configuration(kind, directory: directory), logger: quietLogger)
        var ids: [SpoolEntryID] = []
        for number in 0..<100 {
            ids.append(try await spool.append(record(number)))
        }
        #expect(ids == ids.sorted())
        #expect(spool.statistics.pendingRecords == 100)
        let entries = try await spool.take(exactly: 100)
        #expect(entries.map(\.id) == ids)
        #expect(entries.map(\.record) == (0..<100).map { record($0) })
        spool.acknowledge(entries.map(\.id))
        #expect(spool.statistics.pendingRecords == 0)
        #expect(try await spool.hasNothingToTake())
        await spool.close()
    }

    @Test("reopening after close replays only unacknowledged records, in order", arguments: ["always", "interval", "never"])
    func reopenAfterClose(kind: String) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let configuration = configuration(kind, directory: directory)
        var spool = try Spool(configuration: configuration, logger: quietLogger)
        for number in 0..<50 {
            _ = try await spool.append(record(number))
        }
        let taken = try await spool.take(exactly: 30)
        spool.acknowledge(taken.prefix(20).map(\.id))
        await spool.close()

        spool = try Spool(configuration: configuration, logger: quietLogger)
        #expect(spool.statistics.replayedRecords == 30)
        let replayed = try await spool.take(exactly: 30)
        #expect(replayed.map(\.record) == (20..<50).map { record($0) })
        let next = try await spool.append(record(50))
        #expect(next > replayed.last!.id)
        #expect(try await spool.take(exactly: 1).map(\.record) == [record(50)])
        await spool.close()
    }

    @Test("a crash in always mode keeps every append that returned")
    func crashInAlwaysMode() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let configuration = SpoolConfiguration(storage: .directory(directory.path), syncMode: .always)
        let spool = try Spool(configuration: configuration, logger: quietLogger)
        let ids = try await withThrowingTaskGroup(of: SpoolEntryID.self) { group in
            for number in 0..<200 {
                group.addTask { try await spool.append(record(number)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        await spool.simulateCrash()

        let reopened = try Spool(configuration: configuration, logger: quietLogger)
        #expect(reopened.statistics.replayedRecords == 200)
        let entries = try await reopened.take(exactly: 200)
        #expect(Set(entries.map(\.record)) == Set((0..<200).map { record($0) }))
        #expect(entries.map(\.id) == ids.sorted())
        await reopened.close()
    }

    @Test("a crash in interval mode keeps what reached the kernel; acknowledged records are mostly not replayed")
    func crashInIntervalMode() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let configuration = SpoolConfiguration(
            storage: .directory(directory.path), syncMode: .interval, syncInterval: .milliseconds(20)
        )
        let spool = try Spool(configuration: configuration, logger: quietLogger)
        for number in 0..<100 {
            _ = try await spool.append(record(number))
        }
        let taken = try await spool.take(exactly: 60)
        spool.acknowledge(taken.map(\.id))
        // Under test: what ten sync intervals save in the background (nothing to wait for
        // from outside the spool).
        try await Task.sleep(for: .milliseconds(200))
        await spool.simulateCrash()

        let reopened = try Spool(configuration: configuration, logger: quietLogger)
        #expect(reopened.statistics.replayedRecords == 40)
        let entries = try await reopened.take(exactly: 40)
        #expect(entries.map(\.record) == (60..<100).map { record($0) })
        await reopened.close()
    }

    @Test("acknowledgements not yet saved at a crash only cause duplicates")
    func crashBeforeAcknowledgementsAreSaved() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let configuration = SpoolConfiguration(
            storage: .directory(directory.path), syncMode: .always, syncInterval: .seconds(60)
        )
        let spool = try Spool(configuration: configuration, logger: quietLogger)
        for number in 0..<10 {
            _ = try await spool.append(record(number))
        }
        spool.acknowledge(try await spool.take(exactly: 5).map(\.id))
        await spool.simulateCrash()

        let reopened = try Spool(configuration: configuration, logger: quietLogger)
        let entries = try await reopened.take(exactly: 10, timeout: .milliseconds(300))
        #expect(entries.map(\.record).suffix(5) == (5..<10).map { record($0) }[...])
        await reopened.close()
    }

    @Test("a torn last record is skipped and counted")
    func truncatedTail() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let configuration = SpoolConfiguration(storage: .directory(directory.path), syncMode: .never)
        let spool = try Spool(configuration: configuration, logger: quietLogger)
        for number in 0..<10 {
            _ = try await spool.append(record(number, size: 100))
        }
        await spool.close()
        let segment = directory.path + "/" + directory.segmentNames[0]
        let bytes = try Data(contentsOf: URL(fileURLWithPath: segment))
        try bytes.prefix(bytes.count - 7).write(to: URL(fileURLWithPath: segment))

        let reopened = try Spool(configuration: configuration, logger: quietLogger)
        #expect(reopened.statistics.corruptRecordsSkipped == 1)
        #expect(reopened.statistics.replayedRecords == 9)
        let entries = try await reopened.take(exactly: 10, timeout: .milliseconds(200))
        #expect(entries.map(\.record) == (0..<9).map { record($0, size: 100) })
        await reopened.close()
    }

    @Test("a record with a bad checksum in the middle of a segment is skipped; the rest survive")
    func corruptMiddleRecord() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let configuration = SpoolConfiguration(storage: .directory(directory.path), syncMode: .never)
        let spool = try Spool(configuration: configuration, logger: quietLogger)
        for number in 0..<10 {
            _ = try await spool.append(record(number, size: 100))
        }
        await spool.close()
        let segment = URL(fileURLWithPath: directory.path + "/" + directory.segmentNames[0])
        var bytes = try Data(contentsOf: segment)
        let frame = bytes.count / 10
        bytes[4 * frame + 60] ^= 0xFF
        try bytes.write(to: segment)

        let reopened = try Spool(configuration: configuration, logger: quietLogger)
        #expect(reopened.statistics.corruptRecordsSkipped == 1)
        #expect(reopened.statistics.replayedRecords == 9)
        let entries = try await reopened.take(exactly: 10, timeout: .milliseconds(200))
        #expect(entries.map(\.record) == (0..<10).filter { $0 != 4 }.map { record($0, size: 100) })
        await reopened.close()
    }

    @Test("opening never fails on garbage files", arguments: 0..<40)
    func garbageFiles(seed: Int) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: UInt64(seed))
        let configuration = SpoolConfiguration(storage: .directory(directory.path), syncMode: .never)
        let spool = try Spool(configuration: configuration, logger: quietLogger)
        for number in 0..<20 {
            _ = try await spool.append(record(number, size: Int.random(in: 0...300, using: &generator)))
        }
        await spool.close()
        let valid = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/" + directory.segmentNames[0]))
        func garbage(_ count: Int) -> Data {
            Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        var mangled = valid
        for _ in 0..<Int.random(in: 1...20, using: &generator) {
            mangled[Int.random(in: 0..<mangled.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
        }
        let files: [(String, Data)] = [
            ("00000000000000000000.seg", mangled),
            ("00000000000000000100.seg", garbage(Int.random(in: 0...5000, using: &generator))),
            ("00000000000000000200.seg", valid.prefix(Int.random(in: 0...valid.count, using: &generator)) + garbage(300)),
            ("99999999999999999999.seg", garbage(100)),
            ("ack", garbage(Int.random(in: 0...40, using: &generator))),
            ("notes.txt", garbage(64)),
        ]
        for (name, data) in files {
            try data.write(to: URL(fileURLWithPath: directory.path + "/" + name))
        }

        let reopened = try Spool(configuration: configuration, logger: quietLogger)
        let statistics = reopened.statistics
        #expect(statistics.replayedRecords <= 40)
        let entries = try await reopened.take(exactly: statistics.replayedRecords, timeout: .seconds(2))
        #expect(entries.count == statistics.replayedRecords)
        #expect(entries.map(\.id) == entries.map(\.id).sorted())
        _ = try await reopened.append(record(999))
        await reopened.close()
    }

    @Test("drop-oldest in memory drops the oldest records and counts them")
    func dropOldestInMemory() async throws {
        let spool = try Spool(
            configuration: SpoolConfiguration(storage: .memory, maxBytes: 1000, fullPolicy: .dropOldest),
            logger: quietLogger
        )
        for number in 0..<15 {
            _ = try await spool.append(record(number, size: 100))
        }
        #expect(spool.statistics.droppedRecords == 5)
        #expect(spool.statistics.bytes == 1000)
        #expect(spool.statistics.pendingRecords == 10)
        let entries = try await spool.take(exactly: 10)
        #expect(entries.map(\.record) == (5..<15).map { record($0, size: 100) })
        await spool.close()
    }

    @Test("dropping is logged once when it starts and once when it stops, with the count")
    func dropLogging() async throws {
        let messages = LogMessages()
        let logger = Logger(label: "spool-test") { _ in CapturingLogHandler(messages: messages) }
        let spool = try Spool(
            configuration: SpoolConfiguration(storage: .memory, maxBytes: 1000, fullPolicy: .dropOldest),
            logger: logger
        )
        for number in 0..<30 {
            _ = try await spool.append(record(number, size: 100))
        }
        #expect(messages.all.count == 1)
        #expect(messages.all.first?.hasPrefix("warning: spool full") == true)
        let entries = try await spool.take(exactly: 10)
        spool.acknowledge(entries.map(\.id))
        #expect(messages.all.count == 2)
        #expect(messages.all.last?.contains("spool.dropped\", value: 20") == true)
        await spool.close()
    }

    @Test("drop-oldest on disk drops whole oldest segments and stays under the cap")
    func dropOldestOnDisk() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try Spool(
            configuration: SpoolConfiguration(
                storage: .directory(directory.path), syncMode: .never, maxBytes: 8 * 1200, fullPolicy: .dropOldest
            ),
            logger: quietLogger
        )
        for number in 0..<200 {
            _ = try await spool.append(record(number, size: 100))
            #expect(spool.statistics.bytes <= 8 * 1200)
        }
        let statistics = spool.statistics
        #expect(statistics.droppedRecords > 0)
        #expect(UInt64(statistics.pendingRecords) + statistics.droppedRecords == 200)
        let entries = try await spool.take(exactly: statistics.pendingRecords)
        let firstKept = 200 - statistics.pendingRecords
        #expect(entries.map(\.record) == (firstKept..<200).map { record($0, size: 100) })
        await spool.close()
        #expect(directory.segmentNames.count <= 8)
    }

    @Test("block mode suspends append until acknowledgements free room", arguments: ["memory", "interval"])
    func blockMode(kind: String) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var configuration = configuration(kind, directory: directory)
        configuration.fullPolicy = .block
        configuration.maxBytes = kind == "memory" ? 1000 : 8 * 120
        let spool = try Spool(configuration: configuration, logger: quietLogger)
        let cost = kind == "memory" ? 100 : 120
        var appended = 0
        while spool.statistics.bytes + cost <= configuration.maxBytes {
            _ = try await spool.append(record(appended, size: 100))
            appended += 1
        }
        let blockedNumber = appended
        let blocked = Task { try await spool.append(record(blockedNumber, size: 100)) }
        // An absence check (the append does not go in while the spool is full): a quiet period.
        try await Task.sleep(for: .milliseconds(100))
        #expect(spool.statistics.pendingRecords == appended)

        let entries = try await spool.take(exactly: appended)
        spool.acknowledge(entries.map(\.id))
        let id = try await blocked.value
        #expect(try await spool.take(exactly: 1).map(\.id) == [id])
        #expect(spool.statistics.droppedRecords == 0)
        await spool.close()
    }

    @Test("appendIfImmediate appends unless append would wait", arguments: storages)
    func appendIfImmediate(kind: String) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var configuration = configuration(kind, directory: directory)
        configuration.fullPolicy = .block
        configuration.maxBytes = kind == "memory" ? 1000 : 8 * 120
        let spool = try Spool(configuration: configuration, logger: quietLogger)
        guard kind != "always" else {
            // The fsync is a wait: nothing is appended, the caller must use `append`.
            #expect(try spool.appendIfImmediate(record(0, size: 100)) == nil)
            #expect(spool.statistics.pendingRecords == 0)
            await spool.close()
            return
        }
        var ids: [SpoolEntryID] = []
        while let id = try spool.appendIfImmediate(record(ids.count, size: 100)) {
            ids.append(id)
        }
        // Full in block mode: refused without appending, where `append` would suspend.
        #expect(ids.count >= 5 && spool.statistics.pendingRecords == ids.count)
        #expect(throws: SpoolError.self) { try spool.appendIfImmediate(record(0, size: 5000)) }
        let entries = try await spool.take(exactly: ids.count)
        #expect(entries.map(\.id) == ids)
        #expect(entries.map(\.record) == (0..<ids.count).map { record($0, size: 100) })
        await spool.close()
    }

    @Test("cancelling a blocked append appends nothing")
    func cancelBlockedAppend() async throws {
        let spool = try Spool(
            configuration: SpoolConfiguration(storage: .memory, maxBytes: 100, fullPolicy: .block),
            logger: quietLogger
        )
        _ = try await spool.append(record(0, size: 100))
        let blocked = Task { try await spool.append(record(1, size: 100)) }
        // Lets the append block first, so the cancellation reaches a waiting append (the spool
        // shows no waiters from outside).
        try await Task.sleep(for: .milliseconds(50))
        blocked.cancel()
        await #expect(throws: CancellationError.self) { try await blocked.value }
        spool.acknowledge(try await spool.take(exactly: 1).map(\.id))
        #expect(spool.statistics.pendingRecords == 0)
        await spool.close()
    }

    @Test("segments roll over and are deleted once fully acknowledged")
    func segmentRolloverAndDeletion() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let configuration = SpoolConfiguration(
            storage: .directory(directory.path), syncMode: .interval, syncInterval: .milliseconds(10), segmentBytes: 1000
        )
        let spool = try Spool(configuration: configuration, logger: quietLogger)
        for number in 0..<50 {
            _ = try await spool.append(record(number, size: 100))
        }
        #expect(try await eventually { directory.segmentNames.count >= 5 })
        let entries = try await spool.take(exactly: 50)
        // 120-byte frames, 8 to a segment: acknowledging 48 records empties 6 segments.
        spool.acknowledge(entries.prefix(45).map(\.id))
        #expect(try await eventually { directory.segmentNames.count == 2 })
        spool.acknowledge(entries[45..<48].map(\.id))
        #expect(try await eventually { directory.segmentNames.count == 1 })
        #expect(spool.statistics.bytes == 2 * 120)
        await spool.close()

        let reopened = try Spool(configuration: configuration, logger: quietLogger)
        #expect(reopened.statistics.replayedRecords == 2)
        #expect(try await reopened.take(exactly: 2).map(\.record) == (48..<50).map { record($0, size: 100) })
        await reopened.close()
    }

    @Test("records beyond the memory budget are read back from disk in order")
    func spilledRecords() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try Spool(
            configuration: SpoolConfiguration(
                storage: .directory(directory.path), syncMode: .interval, segmentBytes: 4096, memoryQueueBytes: 1000
            ),
            logger: quietLogger
        )
        for number in 0..<500 {
            _ = try await spool.append(record(number, size: 50))
        }
        var taken: [SpoolEntry] = []
        while taken.count < 500 {
            let batch = try await spool.take(exactly: min(37, 500 - taken.count))
            spool.acknowledge(batch.map(\.id))
            taken += batch
        }
        #expect(taken.map(\.record) == (0..<500).map { record($0, size: 50) })
        for number in 500..<510 {
            _ = try await spool.append(record(number, size: 50))
        }
        #expect(try await spool.take(exactly: 10).map(\.record) == (500..<510).map { record($0, size: 50) })
        await spool.close()
    }

    /// The flusher reads spilled records into the ready queue while the publisher takes,
    /// requeues and more records arrive (on disk too, behind the spill): every record comes
    /// out once acknowledged, in append order.
    @Test("spilled records prefetched by the flusher come out in order, with appends and requeues between takes")
    func spilledRecordsPrefetchedInOrder() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try Spool(
            configuration: SpoolConfiguration(
                storage: .directory(directory.path), syncMode: .interval, segmentBytes: 2048, memoryQueueBytes: 600
            ),
            logger: quietLogger
        )
        var appended = 0
        for _ in 0..<300 {
            _ = try await spool.append(record(appended, size: 40))
            appended += 1
        }
        var acknowledged: [[UInt8]] = []
        var round = 0
        while acknowledged.count < appended {
            let batch = try await spool.take(exactly: min(23, appended - acknowledged.count))
            try #require(!batch.isEmpty, "records stopped coming after \(acknowledged.count)")
            if round % 4 == 3 {
                spool.requeueUnacknowledged()
            } else {
                spool.acknowledge(batch.map(\.id))
                acknowledged += batch.map(\.record)
            }
            if round < 20 {
                for _ in 0..<7 {
                    _ = try await spool.append(record(appended, size: 40))
                    appended += 1
                }
            }
            round += 1
        }
        #expect(acknowledged == (0..<appended).map { record($0, size: 40) })
        await spool.close()
    }

    /// `drop-oldest` deletes segments while the flusher reads spilled ones: a read of a
    /// dropped segment is discarded, and what is delivered stays in order with no repeats.
    @Test("drop-oldest while records are spilled keeps the delivered ones in order")
    func dropOldestWhileSpilled() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try Spool(
            configuration: SpoolConfiguration(
                storage: .directory(directory.path), syncMode: .never, maxBytes: 8 * 1200, fullPolicy: .dropOldest,
                memoryQueueBytes: 300
            ),
            logger: quietLogger
        )
        var delivered: [[UInt8]] = []
        for number in 0..<400 {
            _ = try await spool.append(record(number, size: 100))
            if number % 10 == 9 {
                let batch = try await spool.take(upTo: 3)
                spool.acknowledge(batch.map(\.id))
                delivered += batch.map(\.record)
            }
        }
        let rest = try await spool.take(exactly: spool.statistics.pendingRecords)
        spool.acknowledge(rest.map(\.id))
        delivered += rest.map(\.record)
        let numbers = delivered.map { bytes in Int(String(decoding: bytes, as: UTF8.self).split(separator: "-")[1])! }
        #expect(numbers == numbers.sorted() && Set(numbers).count == numbers.count, "\(numbers)")
        #expect(numbers.last == 399)
        #expect(spool.statistics.droppedRecords > 0)
        await spool.close()
    }

    @Test("requeue hands unacknowledged records out again, before newer ones", arguments: ["memory", "interval"])
    func requeue(kind: String) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try Spool(configuration: configuration(kind, directory: directory), logger: quietLogger)
        for number in 0..<8 {
            _ = try await spool.append(record(number))
        }
        let taken = try await spool.take(exactly: 5)
        spool.acknowledge(taken[1].id)
        spool.acknowledge(taken[3].id)
        spool.requeueUnacknowledged()
        let again = try await spool.take(exactly: 6)
        #expect(again.map(\.record) == [0, 2, 4, 5, 6, 7].map { record($0) })
        #expect(spool.statistics.pendingRecords == 6)
        await spool.close()
    }

    @Test("concurrent appends in always mode share fsyncs")
    func groupCommit() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try Spool(
            configuration: SpoolConfiguration(storage: .directory(directory.path), syncMode: .always),
            logger: quietLogger
        )
        let before = spool.statistics.syncs
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<1000 {
                group.addTask { _ = try await spool.append(record(number)) }
            }
            try await group.waitForAll()
        }
        let syncs = spool.statistics.syncs - before
        #expect(syncs >= 1)
        #expect(syncs < 250)
        #expect(try await spool.take(exactly: 1000).count == 1000)
        await spool.close()
    }

    @Test("closing fails waiting appends and ends take")
    func closeEndsWaiters() async throws {
        let spool = try Spool(
            configuration: SpoolConfiguration(storage: .memory, maxBytes: 10, fullPolicy: .block),
            logger: quietLogger
        )
        _ = try await spool.append(record(0, size: 10))
        let blocked = Task { try await spool.append(record(1, size: 10)) }
        // Lets the append block first, so closing fails a waiting append.
        try await Task.sleep(for: .milliseconds(50))
        await spool.close()
        await #expect(throws: SpoolError.closed) { try await blocked.value }
        await #expect(throws: SpoolError.closed) { try await spool.append(record(2, size: 10)) }
        #expect(try await spool.take().isEmpty)
    }

    @Test("a record larger than the cap is refused")
    func recordTooLarge() async throws {
        let spool = try Spool(configuration: SpoolConfiguration(storage: .memory, maxBytes: 10), logger: quietLogger)
        await #expect(throws: SpoolError.recordTooLarge(size: 11, limit: 10)) { try await spool.append(record(0, size: 11)) }
        await spool.close()
    }

    @Test("a directory is used by one spool at a time")
    func directoryLock() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let configuration = SpoolConfiguration(storage: .directory(directory.path))
        let spool = try Spool(configuration: configuration, logger: quietLogger)
        #expect(throws: SpoolError.directoryLocked(path: directory.path + "/lock")) {
            try Spool(configuration: configuration, logger: quietLogger)
        }
        await spool.close()
        let again = try Spool(configuration: configuration, logger: quietLogger)
        await again.close()
    }
}

/// SplitMix64, so the garbage tests are reproducible from their seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
