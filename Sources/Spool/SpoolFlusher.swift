#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Logging

/// The loop of the spool's own thread: the only writer of segment files and of the `ack`
/// file. Appends only copy frames into memory; this thread takes everything queued since
/// its last cycle, writes it with one `write` per segment and, in `always` mode, syncs once
/// for all of it (group commit). It also reads records that live only on disk back into the
/// ready queue (`prefetchSpill`). Blocking system calls stay off Swift's cooperative pool and
/// out of the spool lock, which the device event loops take to append.
struct SpoolFlusher {
    let core: SpoolCore
    let directory: SpoolDirectory
    let syncMode: SpoolConfiguration.SyncMode
    let interval: Duration
    let writeFault: (@Sendable () -> Int32?)?
    let directoryDescriptor: Int32
    let acknowledgementDescriptor: Int32
    let lockDescriptor: Int32
    var persistedWatermark: UInt64
    var acknowledgementGeneration: UInt32

    private var current: (segment: UInt64, descriptor: Int32)?
    /// Descriptors written since their last sync; closed after it unless still current.
    private var dirty: [(segment: UInt64, descriptor: Int32)] = []
    /// `never` mode closes segments unsynced; `close` syncs them by reopening.
    private var unsyncedClosed: [UInt64] = []
    /// Writes that failed and are retried first.
    private var carry: [PendingWrite] = []
    /// Written but not yet synced, in `always` mode: reported once synced.
    private var awaitingSync: [PendingWrite] = []
    private var lastSync = ContinuousClock.now
    private var lastAcknowledgementWrite = ContinuousClock.now
    private var failing = false
    private var watermarkFailing = false
    /// The segment `prefetchSpill` reads from, kept open between reads.
    private var spillFile: (segment: UInt64, descriptor: Int32)?
    private var spillBuffer: [UInt8] = []
    private var spillReadBytes = SpoolState.readChunkBytes

    init(
        core: SpoolCore, directory: SpoolDirectory, configuration: SpoolConfiguration,
        directoryDescriptor: Int32, acknowledgementDescriptor: Int32, lockDescriptor: Int32,
        watermark: UInt64, acknowledgementGeneration: UInt32
    ) {
        self.core = core
        self.directory = directory
        self.syncMode = configuration.syncMode
        self.interval = configuration.syncInterval
        self.writeFault = configuration.writeFault
        self.directoryDescriptor = directoryDescriptor
        self.acknowledgementDescriptor = acknowledgementDescriptor
        self.lockDescriptor = lockDescriptor
        self.persistedWatermark = watermark
        self.acknowledgementGeneration = acknowledgementGeneration
    }

    mutating func run() {
        while true {
            let work = core.state.withLock { $0.takeFlushWork() }
            if work.stop == .crash {
                stop()
                return
            }
            let stopping = work.stop == .graceful
            carry.append(contentsOf: work.writes)
            // A deleted segment's records are all acknowledged or dropped: its carried writes
            // are void. On a full disk they would fail for ever and hold back every later
            // write, while deleting the segment is what frees the space.
            if !work.deletions.isEmpty {
                carry.removeAll { work.deletions.contains($0.segment) }
            }
            var failure: SpoolError?
            var written: [PendingWrite] = []
            while var next = carry.first {
                do {
                    try write(&next)
                } catch {
                    carry[0] = next
                    failure = error
                    break
                }
                carry.removeFirst()
                written.append(next)
            }
            let now = ContinuousClock.now
            var syncCalls = 0
            var synced = false
            let syncDue =
                switch syncMode {
                case .always: true
                case .interval: now - lastSync >= interval
                case .never: false
                }
            if syncDue || stopping {
                do {
                    syncCalls = try syncDirty(includingClosed: stopping)
                    synced = true
                    lastSync = now
                } catch {
                    failure = failure ?? error
                }
            }
            var report = written
            if syncMode == .always {
                awaitingSync.append(contentsOf: written)
                report = synced ? awaitingSync : []
                if synced { awaitingSync.removeAll() }
            }
            if stopping || now - lastAcknowledgementWrite >= interval {
                saveWatermark(work.watermark, sync: stopping)
                lastAcknowledgementWrite = now
            }
            deleteSegments(work.deletions)
            var effects = SpoolEffects()
            core.state.withLock { $0.completeFlush(written: report, synced: synced, syncCalls: syncCalls, effects: &effects) }
            core.perform(effects)
            noteOutcome(failure)
            if stopping {
                stop()
                return
            }
            prefetchSpill()
            if failure != nil {
                _ = core.wakeup.wait(timeout: .now() + .seconds(1))
            } else if work.isEmpty {
                sleep(now: now)
            }
        }
    }

    private mutating func write(_ pending: inout PendingWrite) throws(SpoolError) {
        if current?.segment != pending.segment {
            if let current {
                if syncMode == .never {
                    POSIXFile.close(current.descriptor)
                    unsyncedClosed.append(current.segment)
                } else if !dirty.contains(where: { $0.descriptor == current.descriptor }) {
                    POSIXFile.close(current.descriptor)
                }
            }
            current = nil
            let path = directory.segmentPath(pending.segment)
            let descriptor = try POSIXFile.openForAppending(path)
            current = (pending.segment, descriptor)
            if syncMode != .never {
                try POSIXFile.fullSync(directoryDescriptor, path: directory.path)
            }
        }
        guard let current else { return }
        if let errno = writeFault?() {
            throw .io(operation: "write", path: directory.segmentPath(current.segment), errno: errno)
        }
        try POSIXFile.writeAll(current.descriptor, pending.bytes, from: &pending.written, path: directory.segmentPath(current.segment))
        if syncMode != .never && !dirty.contains(where: { $0.descriptor == current.descriptor }) {
            dirty.append(current)
        }
    }

    /// Syncs every segment written since the last sync; returns how many `fdatasync` calls.
    private mutating func syncDirty(includingClosed: Bool) throws(SpoolError) -> Int {
        var calls = 0
        if includingClosed {
            if let current, !dirty.contains(where: { $0.descriptor == current.descriptor }) {
                dirty.append(current)
            }
            for segment in unsyncedClosed {
                let path = directory.segmentPath(segment)
                guard let descriptor = POSIXFile.openExisting(path) else { continue }
                defer { POSIXFile.close(descriptor) }
                try POSIXFile.dataSync(descriptor, path: path)
                calls += 1
            }
            unsyncedClosed.removeAll()
        }
        while let file = dirty.first {
            try POSIXFile.dataSync(file.descriptor, path: directory.segmentPath(file.segment))
            calls += 1
            dirty.removeFirst()
            if file.descriptor != current?.descriptor {
                POSIXFile.close(file.descriptor)
            }
        }
        return calls
    }

    private mutating func saveWatermark(_ watermark: UInt64, sync: Bool) {
        guard watermark != persistedWatermark || sync else { return }
        let generation = acknowledgementGeneration &+ 1
        let slot = SpoolDirectory.encodeAcknowledgement(watermark: watermark, generation: generation)
        let offset = Int(generation % 2) * SpoolDirectory.acknowledgementSlotSize
        do {
            try POSIXFile.writeAt(acknowledgementDescriptor, slot, offset: offset, path: directory.acknowledgementPath)
            if sync {
                try POSIXFile.dataSync(acknowledgementDescriptor, path: directory.acknowledgementPath)
            }
            acknowledgementGeneration = generation
            persistedWatermark = watermark
            watermarkFailing = false
        } catch {
            // Once per run of failures: on a full disk this is retried every interval.
            if !watermarkFailing {
                core.logger.warning("cannot save the spool acknowledgement watermark", metadata: ["error": "\(error)"])
            }
            watermarkFailing = true
        }
    }

    private mutating func deleteSegments(_ deletions: [UInt64]) {
        for segment in deletions {
            if current?.segment == segment, let descriptor = current?.descriptor {
                if !dirty.contains(where: { $0.descriptor == descriptor }) {
                    POSIXFile.close(descriptor)
                }
                current = nil
            }
            unsyncedClosed.removeAll { $0 == segment }
            do {
                try POSIXFile.unlink(directory.segmentPath(segment))
            } catch {
                core.logger.warning("cannot delete an acknowledged spool segment", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Reads records that live only on disk into the ready queue until it is full or has
    /// caught up with what is written; each `pread` happens outside the spool lock.
    private mutating func prefetchSpill() {
        while let read = core.state.withLock({ $0.nextSpillRead(chunkBytes: spillReadBytes) }) {
            var effects = SpoolEffects()
            do {
                let descriptor = try spillDescriptor(for: read)
                try POSIXFile.read(descriptor, offset: read.offset, count: read.count, into: &spillBuffer, path: read.path)
                let parsed = read.parse(spillBuffer)
                spillReadBytes = parsed.consumed == 0 ? parsed.wanted : SpoolState.readChunkBytes
                core.state.withLock { $0.completeSpillRead(read, parsed, effects: &effects) }
            } catch {
                closeSpillFile()
                core.state.withLock { $0.spillReadFailed(read, error, effects: &effects) }
            }
            core.perform(effects)
        }
    }

    private mutating func spillDescriptor(for read: SpillRead) throws(SpoolError) -> Int32 {
        if let spillFile, spillFile.segment == read.segment {
            return spillFile.descriptor
        }
        closeSpillFile()
        let descriptor = try POSIXFile.openForReading(read.path)
        spillFile = (read.segment, descriptor)
        return descriptor
    }

    private mutating func closeSpillFile() {
        if let spillFile {
            POSIXFile.close(spillFile.descriptor)
        }
        spillFile = nil
    }

    /// Tells the state about every failed cycle (dropping may have cleared its disk-full flag
    /// early) and about the first good one after them; the state logs each episode once.
    private mutating func noteOutcome(_ failure: SpoolError?) {
        if let failure {
            failing = true
            core.withState { state, effects in state.writeFailed(failure, effects: &effects) }
        } else if failing {
            failing = false
            core.withState { state, effects in state.writesRecovered(effects: &effects) }
        }
    }

    /// Sleeps until woken by new work, the next interval sync, or the next watermark save.
    private func sleep(now: ContinuousClock.Instant) {
        var timeout = interval
        if syncMode == .interval && !dirty.isEmpty {
            timeout = max(.zero, interval - (now - lastSync))
        }
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        let woken = core.wakeup.wait(timeout: .now() + .nanoseconds(Int(max(1_000_000, nanoseconds)))) == .success
        if woken && syncMode != .always {
            // Gather what else arrives within a millisecond into the same write: woken per
            // record, this thread cost a wake-up and a write per message and tripled the
            // bridge's p99 latency on two cores. (`always` batches by the sync instead.)
            usleep(1000)
        }
    }

    /// Closes every descriptor (releasing the directory lock) and lets `close` return.
    private mutating func stop() {
        var descriptors = Set(dirty.map(\.descriptor))
        if let current { descriptors.insert(current.descriptor) }
        for descriptor in descriptors {
            POSIXFile.close(descriptor)
        }
        dirty.removeAll()
        current = nil
        closeSpillFile()
        POSIXFile.close(acknowledgementDescriptor)
        POSIXFile.close(directoryDescriptor)
        // Release the directory lock before anyone can see the flusher stopped: a reopen of
        // the directory right after `close` returns must find it unlocked.
        POSIXFile.close(lockDescriptor)
        var effects = SpoolEffects()
        let waiters = core.state.withLock { $0.flusherDidStop(effects: &effects) }
        core.perform(effects)
        for waiter in waiters {
            waiter.resume()
        }
    }
}
