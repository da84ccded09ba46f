import Foundation
import Logging
import Spool
import TestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A disk that can be made to refuse writes (`ENOSPC`) and accept them again, through the
/// spool's write-fault seam.
final class FailingDisk: Sendable {
    private let full = Atomic<Bool>(false)

    func fill() { full.store(true, ordering: .releasing) }
    func free() { full.store(false, ordering: .releasing) }

    var fault: @Sendable () -> Int32? {
        { [self] in full.load(ordering: .acquiring) ? ENOSPC : nil }
    }
}

/// A full disk is a full spool: the policy applies, the statistics say what is held in memory
/// only, each episode is logged once when it starts and once when it ends, and acknowledged
/// space comes back without an operator.
@Suite("Spool on a full disk")
struct SpoolDiskFullTests {
    static let holdBytes = 4096

    /// A spool on a temporary directory whose disk the test fills and frees, logging into
    /// `messages`.
    struct Harness {
        let directory = TemporaryDirectory()
        let disk = FailingDisk()
        let messages = LogMessages()
        let spool: Spool

        init(policy: SpoolConfiguration.FullPolicy) throws {
            var configuration = SpoolConfiguration(
                storage: .directory(directory.path), syncMode: .interval, syncInterval: .milliseconds(20),
                fullPolicy: policy, diskFullHoldBytes: SpoolDiskFullTests.holdBytes
            )
            configuration.writeFault = disk.fault
            let messages = messages
            spool = try Spool(configuration: configuration, logger: Logger(label: "spool-test") { _ in CapturingLogHandler(messages: messages) })
        }
    }

    @Test("block: past the hold, appends wait until the disk takes writes again; nothing is lost")
    func blockWaitsForTheDisk() async throws {
        let harness = try Harness(policy: .block)
        defer { harness.directory.remove() }
        let (spool, disk, messages) = (harness.spool, harness.disk, harness.messages)
        disk.fill()
        _ = try await spool.append(record(0, size: 100))
        #expect(try await eventually { spool.statistics.diskFull })
        var appended = 1
        while try spool.appendIfImmediate(record(appended, size: 100)) != nil {
            appended += 1
        }
        let held = spool.statistics
        #expect(held.memoryBytes <= Self.holdBytes && held.memoryBytes > Self.holdBytes - 200, "\(held)")
        #expect(held.memoryBytes == held.bytes, "nothing reached the disk")
        let last = record(appended, size: 100)
        let waiting = Task { try await spool.append(last) }
        #expect(try await spool.take(exactly: appended).count == appended)
        #expect(spool.statistics.pendingRecords == appended, "the waiting append is not in yet")

        disk.free()
        _ = try await waiting.value
        #expect(try await eventually { spool.statistics.memoryBytes == 0 && !spool.statistics.diskFull })
        let rest = try await spool.take(exactly: 1)
        #expect(rest.map(\.record) == [record(appended, size: 100)])
        #expect(spool.statistics.droppedRecords == 0)
        let warnings = messages.all.filter { $0.contains("spool disk full") }
        #expect(warnings.count == 1, "\(messages.all)")
        #expect(warnings.first?.contains("--spool-full block pauses reading from devices") == true)
        #expect(messages.all.filter { $0.contains("spool writing recovered") }.count == 1, "\(messages.all)")
        await spool.close()
    }

    @Test("drop-oldest: the oldest segments are dropped and counted, memory stays within the hold")
    func dropOldestMakesRoom() async throws {
        let harness = try Harness(policy: .dropOldest)
        defer { harness.directory.remove() }
        let (spool, disk, messages) = (harness.spool, harness.disk, harness.messages)
        for number in 0..<50 {
            _ = try await spool.append(record(number, size: 100))
        }
        #expect(try await eventually { spool.statistics.memoryBytes == 0 }, "written while the disk had room")
        disk.fill()
        _ = try await spool.append(record(50, size: 100))
        #expect(try await eventually { spool.statistics.diskFull })
        // Memory holds at most the hold, or what dropping freed on disk for the flusher to
        // write (the first segment: 50 written records of 120 bytes).
        for number in 51..<500 {
            #expect(try spool.appendIfImmediate(record(number, size: 100)) != nil, "drop-oldest never waits")
            #expect(spool.statistics.memoryBytes <= max(Self.holdBytes, 50 * 120))
        }
        let statistics = spool.statistics
        #expect(statistics.droppedRecords > 400, "\(statistics)")
        #expect(statistics.pendingRecords == 500 - Int(statistics.droppedRecords))
        #expect(messages.all.filter { $0.contains("spool disk full") }.count == 1, "\(messages.all)")

        disk.free()
        #expect(try await eventually { spool.statistics.memoryBytes == 0 && !spool.statistics.diskFull })
        let left = try await spool.take(exactly: statistics.pendingRecords)
        let first = 500 - statistics.pendingRecords
        #expect(left.map(\.record) == (first..<500).map { record($0, size: 100) }, "the newest survive, in order")
        #expect(messages.all.contains { $0.contains("spool writing recovered") && $0.contains("spool.dropped") })
        await spool.close()
    }

    @Test("records acknowledged while the disk is full free their segment: writing resumes by itself")
    func acknowledgedSpaceComesBack() async throws {
        let harness = try Harness(policy: .block)
        defer { harness.directory.remove() }
        let (spool, disk, directory) = (harness.spool, harness.disk, harness.directory)
        for number in 0..<20 {
            _ = try await spool.append(record(number, size: 100))
        }
        #expect(try await eventually { spool.statistics.memoryBytes == 0 })
        #expect(directory.segmentNames.count == 1)
        disk.fill()
        _ = try await spool.append(record(20, size: 100))
        #expect(try await eventually { spool.statistics.diskFull })
        // The broker acknowledges everything: the segment open when the disk filled was sealed,
        // so it goes, with the write it could not take.
        spool.acknowledge(try await spool.take(exactly: 21).map(\.id))
        #expect(try await eventually { directory.segmentNames.isEmpty }, "\(directory.segmentNames)")
        #expect(spool.statistics.bytes == 0 && spool.statistics.memoryBytes == 0)
        disk.free()
        _ = try await spool.append(record(21, size: 100))
        #expect(try await eventually { spool.statistics.memoryBytes == 0 && !spool.statistics.diskFull })
        #expect(try await spool.take(exactly: 1).map(\.record) == [record(21, size: 100)])
        await spool.close()
    }

    // MARK: - A real small filesystem

    /// A 1 MiB tmpfs, mounted for the test (root only; elsewhere the test is disabled).
    struct SmallFilesystem {
        let directory = TemporaryDirectory()

        init?() {
            guard geteuid() == 0 else { return nil }
            try? FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
            guard mount("tmpfs", directory.path, "tmpfs", 0, "size=1m") == 0 else {
                directory.remove()
                return nil
            }
        }

        var freeBytes: Int {
            var status = statvfs()
            guard statvfs(directory.path, &status) == 0 else { return 0 }
            return Int(status.f_bavail) * Int(status.f_frsize)
        }

        func unmount() {
            umount(directory.path)
            directory.remove()
        }
    }

    static let canMount: Bool = {
        guard let filesystem = SmallFilesystem() else { return false }
        filesystem.unmount()
        return true
    }()

    @Test(
        "on a real 1 MiB tmpfs with 32 MiB segments: block holds, acknowledgements reclaim the disk, writing recovers",
        .enabled(if: SpoolDiskFullTests.canMount, "needs root to mount a tmpfs")
    )
    func realSmallFilesystem() async throws {
        let filesystem = try #require(SmallFilesystem())
        defer { filesystem.unmount() }
        let messages = LogMessages()
        let logger = Logger(label: "spool-test") { _ in CapturingLogHandler(messages: messages) }
        let spool = try Spool(
            configuration: SpoolConfiguration(
                storage: .directory(filesystem.directory.path + "/spool"), syncInterval: .milliseconds(20),
                fullPolicy: .block, diskFullHoldBytes: 64 << 10
            ),
            logger: logger
        )
        let size = 1000
        var appended = 0
        // A steady trickle, as from devices: each record is written before the next, until a
        // write fails; then appends until the spool makes them wait (the hold is used up).
        while !spool.statistics.diskFull {
            _ = try await spool.append(record(appended, size: size))
            appended += 1
            #expect(try await eventually { spool.statistics.memoryBytes == 0 || spool.statistics.diskFull })
        }
        while try spool.appendIfImmediate(record(appended, size: size)) != nil {
            appended += 1
        }
        let full = spool.statistics
        print("1 MiB tmpfs: \(appended) records of \(size) bytes accepted; \(full.bytes - full.memoryBytes) bytes durable, \(full.memoryBytes) in memory; free \(filesystem.freeBytes)")
        #expect(full.diskFull)
        #expect(full.memoryBytes <= 64 << 10 + size + 24)
        #expect(full.bytes - full.memoryBytes < 1 << 20, "durable bytes fit the filesystem")
        #expect(messages.all.filter { $0.contains("spool disk full") }.count == 1, "\(messages.all)")

        // The broker comes back and acknowledges everything.
        let last = record(appended, size: size)
        let waiting = Task { try await spool.append(last) }
        var taken = 0
        while taken < appended {
            let entries = try await spool.take(exactly: appended - taken, timeout: .seconds(2))
            #expect(entries.first?.record == record(taken, size: size), "in order")
            taken += entries.count
            spool.acknowledge(entries.map(\.id))
        }
        _ = try await waiting.value
        #expect(try await eventually(timeout: .seconds(10)) { !spool.statistics.diskFull && spool.statistics.memoryBytes == 0 })
        #expect(try await spool.take(exactly: 1).map(\.record) == [record(appended, size: size)])
        #expect(filesystem.freeBytes > 900 << 10, "the acknowledged segment was deleted: \(filesystem.freeBytes) bytes free")
        #expect(messages.all.filter { $0.contains("spool writing recovered") }.count == 1, "\(messages.all)")
        await spool.close()
    }
}
