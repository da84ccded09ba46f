/// Work the spool must do after releasing its lock: resume tasks, wake the flusher, log.
struct SpoolEffects {
    var wakeFlusher = false
    var consumers: [CheckedContinuation<Void, Never>] = []
    var appends: [(CheckedContinuation<SpoolEntryID, any Error>, Result<SpoolEntryID, any Error>)] = []
    var logs: [SpoolLogEvent] = []
}

enum SpoolLogEvent {
    case droppingStarted(bytes: Int, maxBytes: Int)
    case droppingStopped(dropped: UInt64)
    case readFailed(SpoolError)
    case diskRefused(SpoolError, memoryBytes: Int, policy: SpoolConfiguration.FullPolicy)
    case diskRecovered(memoryBytes: Int, dropped: UInt64)
}

enum SpoolStopRequest {
    /// Write, sync and save everything, then stop (`close`).
    case graceful
    /// Stop at once, writing nothing more: what a process crash leaves behind.
    case crash
}

/// What the flusher takes from the state in one cycle.
struct FlushWork {
    var writes: [PendingWrite]
    var deletions: [UInt64]
    var watermark: UInt64
    var stop: SpoolStopRequest?

    var isEmpty: Bool { writes.isEmpty && deletions.isEmpty && stop == nil }
}

/// Everything the spool knows, guarded by one `Mutex` in `Spool`. Methods are plain
/// mutations that collect `SpoolEffects` for the caller to carry out once unlocked, so the
/// lock is held for memory work only: the flusher reads spilled records without it (`SpillRead`).
///
/// Order invariant: every sequence in `inFlight` is below every sequence in `ready`, which
/// are below the sequence of `spill` (records only on disk). All three are in append order.
struct SpoolState {
    struct QueuedRecord {
        let sequence: UInt64
        let record: [UInt8]
    }

    struct InFlightRecord {
        let sequence: UInt64
        let record: [UInt8]
        var acknowledged = false
    }

    /// Where the records that live only on disk start.
    struct SpillCursor {
        var segment: UInt64
        var offset: Int
        /// Records below this sequence are already in memory or acknowledged.
        var sequence: UInt64
    }

    struct AppendWaiter {
        let id: Int
        let record: [UInt8]
        let recordCRC: UInt32
        let continuation: CheckedContinuation<SpoolEntryID, any Error>
    }

    enum AppendOutcome {
        case appended(UInt64)
        case full
        case failed(SpoolError)
    }

    /// Records read back from disk per `pread`, unless one record is larger.
    static let readChunkBytes = 1 << 20

    let directory: SpoolDirectory?
    let syncMode: SpoolConfiguration.SyncMode
    let maxBytes: Int
    let fullPolicy: SpoolConfiguration.FullPolicy
    let segmentBytes: Int
    let memoryQueueBytes: Int
    let diskFullHoldBytes: Int

    var nextSequence: UInt64
    var segments: [Segment] = []
    var pendingWrites: [PendingWrite] = []
    var pendingDeletions: [UInt64] = []
    var flusherIdle = false
    /// Set when a deletion needs the idle flusher; turned into `SpoolEffects.wakeFlusher` by
    /// the entry points that can delete.
    var wakeFlusherPending = false
    /// In `always` mode, sequences below this are synced and may be handed out.
    var durableBelow: UInt64

    var ready = FIFO<QueuedRecord>()
    var readyBytes = 0
    var inFlight = FIFO<InFlightRecord>()
    var spill: SpillCursor?

    var bytes = 0
    var pendingRecords = 0
    var droppedRecords: UInt64 = 0
    var replayedRecords = 0
    var corruptRecords = 0
    var syncs: UInt64 = 0
    /// `droppedRecords` when the current run of drops began; `nil` when not dropping.
    var dropEpisodeStart: UInt64?
    /// The flusher's last write failed: the disk is full (or failing), so records beyond
    /// `diskFullHoldBytes` not yet written meet the full policy, as at `maxBytes`.
    var diskFull = false
    /// Disk bytes that `drop-oldest` freed since the last failed write: records up to that
    /// many bytes may wait in memory for the flusher, which can now write them.
    var freedSinceWriteFailed = 0
    /// `droppedRecords` when writes started failing; `nil` while they succeed. Keeps the
    /// warning and the recovery line to one each per episode.
    var diskFailingSince: UInt64?
    /// Set at shutdown (`liftCap`): nothing waits or is dropped for room any more.
    var capLifted = false

    var appendWaiters: [AppendWaiter] = []
    var durableWaiters: [(sequence: UInt64, continuation: CheckedContinuation<SpoolEntryID, any Error>)] = []
    var consumerWaiters: [(id: Int, continuation: CheckedContinuation<Void, Never>)] = []
    var closeWaiters: [CheckedContinuation<Void, Never>] = []
    var nextWaiterID = 0
    var closed = false
    var stopRequest: SpoolStopRequest?
    var flusherStopped = false

    init(configuration: SpoolConfiguration, directory: SpoolDirectory?, recovery: SpoolDirectory.Recovery?) {
        self.directory = directory
        self.syncMode = configuration.syncMode
        self.maxBytes = configuration.maxBytes
        self.fullPolicy = configuration.fullPolicy
        self.segmentBytes = configuration.effectiveSegmentBytes
        self.memoryQueueBytes = configuration.memoryQueueBytes
        self.diskFullHoldBytes = max(1, min(configuration.diskFullHoldBytes, configuration.effectiveSegmentBytes))
        let recovery = recovery ?? SpoolDirectory.Recovery()
        self.nextSequence = recovery.nextSequence
        self.durableBelow = recovery.nextSequence
        self.segments = recovery.segments
        self.bytes = recovery.segments.reduce(0) { $0 + $1.size }
        self.pendingRecords = recovery.replayedRecords
        self.replayedRecords = recovery.replayedRecords
        self.corruptRecords = recovery.corruptRecords
        if let first = recovery.segments.first {
            self.spill = SpillCursor(segment: first.firstSequence, offset: 0, sequence: recovery.watermark)
        }
    }

    var persistent: Bool { directory != nil }
    var waitsForSync: Bool { persistent && syncMode == .always }

    var statistics: SpoolStatistics {
        SpoolStatistics(
            bytes: bytes,
            memoryBytes: persistent ? unwrittenBytes : bytes,
            diskFull: diskFull,
            pendingRecords: pendingRecords,
            droppedRecords: droppedRecords,
            replayedRecords: replayedRecords,
            corruptRecordsSkipped: corruptRecords,
            syncs: syncs
        )
    }

    /// Every sequence below this is acknowledged or dropped: what the `ack` file saves.
    var lowestUnacknowledged: UInt64 {
        if let first = inFlight.first { return first.sequence }
        if let first = ready.first { return first.sequence }
        if let spill { return spill.sequence }
        return nextSequence
    }

    /// Bytes appended to segments but not written by the flusher yet: held in memory only.
    var unwrittenBytes: Int {
        segments.reduce(0) { $0 + $1.size - $1.writtenBytes }
    }

    func cost(of record: [UInt8]) -> Int {
        persistent ? RecordFrame.headerSize + record.count : record.count
    }

    mutating func makeWaiterID() -> Int {
        nextWaiterID += 1
        return nextWaiterID
    }

    // MARK: Appending

    /// Appends unless closed or full; appends queue behind waiting ones, so waiters keep
    /// their order.
    mutating func append(_ record: [UInt8], recordCRC: UInt32, effects: inout SpoolEffects) -> AppendOutcome {
        if closed { return .failed(.closed) }
        if !appendWaiters.isEmpty { return .full }
        return admit(record, recordCRC: recordCRC, effects: &effects)
    }

    private mutating func admit(_ record: [UInt8], recordCRC: UInt32, effects: inout SpoolEffects) -> AppendOutcome {
        let cost = cost(of: record)
        if diskFull && !capLifted && unwrittenBytes + cost > max(diskFullHoldBytes, freedSinceWriteFailed) {
            switch fullPolicy {
            case .block: return .full
            case .dropOldest: dropOldestForDisk(toFit: cost, effects: &effects)
            }
        }
        if persistent {
            prepareActiveSegment(for: cost)
        }
        if bytes + cost > maxBytes && !capLifted {
            switch fullPolicy {
            case .block:
                sealIdleActiveSegment()
                if bytes + cost > maxBytes { return .full }
            case .dropOldest:
                dropOldest(toFit: cost, effects: &effects)
            }
        }
        let sequence = nextSequence
        nextSequence += 1
        bytes += cost
        pendingRecords += 1
        if persistent {
            let last = segments.count - 1
            if spill == nil && readyBytes + record.count > memoryQueueBytes {
                spill = SpillCursor(segment: segments[last].firstSequence, offset: segments[last].size, sequence: sequence)
            }
            segments[last].size += cost
            segments[last].pendingRecords += 1
            if pendingWrites.last?.segment != segments[last].firstSequence {
                pendingWrites.append(PendingWrite(segment: segments[last].firstSequence, bytes: [], endSequence: sequence))
            }
            let index = pendingWrites.count - 1
            RecordFrame.append(record, recordCRC: recordCRC, sequence: sequence, to: &pendingWrites[index].bytes)
            pendingWrites[index].endSequence = sequence + 1
            if flusherIdle {
                flusherIdle = false
                effects.wakeFlusher = true
            }
        }
        if spill == nil {
            ready.append(QueuedRecord(sequence: sequence, record: record))
            readyBytes += record.count
            if !waitsForSync {
                wakeConsumers(&effects)
            }
        }
        if wakeFlusherPending {
            wakeFlusherPending = false
            effects.wakeFlusher = true
        }
        return .appended(sequence)
    }

    /// Starts a new segment when there is no open one or this record would overflow it.
    private mutating func prepareActiveSegment(for cost: Int) {
        if let last = segments.last, !last.sealed, last.size == 0 || last.size + cost <= segmentBytes {
            return
        }
        sealIdleActiveSegment()
        if let last = segments.indices.last, !segments[last].sealed {
            segments[last].sealed = true
        }
        segments.append(Segment(firstSequence: nextSequence, size: 0, writtenBytes: 0, sealed: false, pendingRecords: 0))
    }

    /// A fully acknowledged open segment is sealed and deleted, so that in `block` mode
    /// its bytes stop counting against the cap.
    private mutating func sealIdleActiveSegment() {
        guard let last = segments.indices.last, !segments[last].sealed,
            segments[last].pendingRecords == 0, segments[last].size > 0
        else { return }
        segments[last].sealed = true
        deleteSegment(at: last)
    }

    private mutating func dropOldest(toFit cost: Int, effects: inout SpoolEffects) {
        let droppedBefore = droppedRecords
        if persistent {
            while bytes + cost > maxBytes, let first = segments.first, first.sealed {
                dropFirstSegment(effects: &effects)
            }
        } else {
            while bytes + cost > maxBytes {
                if let record = inFlight.popFirst() {
                    if !record.acknowledged {
                        droppedRecords += 1
                        pendingRecords -= 1
                        bytes -= record.record.count
                    }
                } else if let record = ready.popFirst() {
                    readyBytes -= record.record.count
                    droppedRecords += 1
                    pendingRecords -= 1
                    bytes -= record.record.count
                } else {
                    break
                }
            }
        }
        noteDrops(since: droppedBefore, effects: &effects)
    }

    private mutating func noteDrops(since droppedBefore: UInt64, effects: inout SpoolEffects) {
        if droppedRecords > droppedBefore && dropEpisodeStart == nil {
            dropEpisodeStart = droppedBefore
            effects.logs.append(.droppingStarted(bytes: bytes, maxBytes: maxBytes))
        }
    }

    /// `drop-oldest` on a full disk: drops whole segments from the oldest, deleting their
    /// files, until what waits to be written fits in the space those deletions freed (since
    /// the last failed write) or in memory within `diskFullHoldBytes`. A lone open segment is
    /// sealed and dropped too: it holds the oldest records then. The flusher is woken to
    /// retry at once; its next write confirms the room or reports the disk full again.
    private mutating func dropOldestForDisk(toFit cost: Int, effects: inout SpoolEffects) {
        let droppedBefore = droppedRecords
        while !segments.isEmpty {
            let needed = unwrittenBytes + cost
            if needed <= diskFullHoldBytes || needed <= freedSinceWriteFailed { break }
            freedSinceWriteFailed += segments[0].writtenBytes
            segments[0].sealed = true
            dropFirstSegment(effects: &effects)
            effects.wakeFlusher = true
        }
        noteDrops(since: droppedBefore, effects: &effects)
    }

    /// Drops the oldest segment with every record in it still pending: counted as dropped,
    /// removed from the queues, its file deleted. Appends waiting for the sync of one of its
    /// records (`always`) return: the record was accepted, then dropped by the policy.
    private mutating func dropFirstSegment(effects: inout SpoolEffects) {
        let first = segments[0]
        droppedRecords += UInt64(first.pendingRecords)
        pendingRecords -= first.pendingRecords
        let limit = segments.count > 1 ? segments[1].firstSequence : nextSequence
        while let record = inFlight.first, record.sequence < limit { _ = inFlight.popFirst() }
        while let record = ready.first, record.sequence < limit {
            readyBytes -= record.record.count
            _ = ready.popFirst()
        }
        durableWaiters.removeAll { waiter in
            guard waiter.sequence < limit else { return false }
            effects.appends.append((waiter.continuation, .success(SpoolEntryID(sequence: waiter.sequence))))
            return true
        }
        segments[0].pendingRecords = 0
        deleteSegment(at: 0)
    }

    private mutating func deleteSegment(at index: Int) {
        let segment = segments.remove(at: index)
        bytes -= segment.size
        // Nothing of it needs writing any more: on a full disk, that write could never succeed.
        pendingWrites.removeAll { $0.segment == segment.firstSequence }
        pendingDeletions.append(segment.firstSequence)
        if var cursor = spill, cursor.segment == segment.firstSequence {
            let next = index < segments.count ? segments[index].firstSequence : nextSequence
            cursor.segment = next
            cursor.offset = 0
            cursor.sequence = max(cursor.sequence, next)
            spill = cursor
        }
        if flusherIdle {
            flusherIdle = false
            wakeFlusherPending = true
        }
    }

    // MARK: Taking and acknowledging

    /// Whether `take` would hand something out now. Records only on disk count once the
    /// flusher has read them into `ready`.
    var hasAvailable: Bool {
        guard let first = ready.first else { return false }
        return !waitsForSync || first.sequence < durableBelow
    }

    mutating func take(upTo maxCount: Int, effects: inout SpoolEffects) -> [SpoolEntry] {
        var entries: [SpoolEntry] = []
        while entries.count < maxCount, let first = ready.first {
            if waitsForSync && first.sequence >= durableBelow { break }
            _ = ready.popFirst()
            readyBytes -= first.record.count
            inFlight.append(InFlightRecord(sequence: first.sequence, record: first.record))
            entries.append(SpoolEntry(id: SpoolEntryID(sequence: first.sequence), record: first.record))
        }
        // Half the ready queue gone with records still on disk: the idle flusher refills it.
        if spill != nil, flusherIdle, readyBytes <= memoryQueueBytes / 2 {
            flusherIdle = false
            effects.wakeFlusher = true
        }
        return entries
    }

    /// The flusher's next read of records that live only on disk, while the ready queue has
    /// room; nil when there is none, or nothing can be read until the flusher writes more.
    /// Moves the cursor past fully read segments (no I/O), and clears it once it has caught
    /// up with every append: appends go straight to `ready` again.
    mutating func nextSpillRead(chunkBytes: Int) -> SpillRead? {
        guard let directory else { return nil }
        while var cursor = spill, readyBytes < memoryQueueBytes {
            guard let index = segments.firstIndex(where: { $0.firstSequence >= cursor.segment }) else {
                spill = nil
                return nil
            }
            let segment = segments[index]
            if segment.firstSequence != cursor.segment {
                cursor.segment = segment.firstSequence
                cursor.offset = 0
                spill = cursor
            }
            if cursor.offset >= segment.writtenBytes {
                guard segment.writtenBytes == segment.size else { return nil }
                if index + 1 < segments.count {
                    cursor.segment = segments[index + 1].firstSequence
                    cursor.offset = 0
                    spill = cursor
                } else {
                    spill = nil
                }
                continue
            }
            let count = min(chunkBytes, segment.writtenBytes - cursor.offset)
            return SpillRead(
                segment: segment.firstSequence,
                path: directory.segmentPath(segment.firstSequence),
                offset: cursor.offset,
                count: count,
                isFinal: count == segment.writtenBytes - cursor.offset,
                fromSequence: cursor.sequence,
                limit: index + 1 < segments.count ? segments[index + 1].firstSequence : SpoolDirectory.maxSequence,
                budget: memoryQueueBytes - readyBytes,
                writtenEnd: segment.writtenBytes
            )
        }
        return nil
    }

    /// Queues what the flusher read, unless the cursor moved meanwhile (then the next
    /// `nextSpillRead` plans again from where it is now).
    mutating func completeSpillRead(_ read: SpillRead, _ parsed: SpillRead.Parsed, effects: inout SpoolEffects) {
        guard var cursor = spill, cursor.segment == read.segment, cursor.offset == read.offset,
            cursor.sequence == read.fromSequence
        else { return }
        for record in parsed.records {
            ready.append(record)
        }
        readyBytes += parsed.recordBytes
        cursor.offset += parsed.consumed
        cursor.sequence = parsed.nextSequence
        spill = cursor
        if !parsed.records.isEmpty {
            wakeConsumers(&effects)
        }
    }

    /// The segment could not be read: the rest of what was written of it is skipped (logged).
    mutating func spillReadFailed(_ read: SpillRead, _ error: SpoolError, effects: inout SpoolEffects) {
        guard var cursor = spill, cursor.segment == read.segment, cursor.offset == read.offset else { return }
        effects.logs.append(.readFailed(error))
        cursor.offset = read.writtenEnd
        spill = cursor
    }

    /// Acknowledges a record handed out by `take`. Unknown ids (dropped, or already
    /// acknowledged) are ignored.
    mutating func acknowledge(_ sequence: UInt64, effects: inout SpoolEffects) {
        let position = inFlight.partitioningIndex { $0.sequence < sequence }
        guard position < inFlight.count, inFlight[position].sequence == sequence, !inFlight[position].acknowledged else {
            return
        }
        inFlight[position].acknowledged = true
        pendingRecords -= 1
        if persistent {
            if let index = segmentIndex(containing: sequence) {
                segments[index].pendingRecords -= 1
                if segments[index].pendingRecords == 0 && segments[index].sealed {
                    deleteSegment(at: index)
                }
            }
        } else {
            bytes -= inFlight[position].record.count
        }
        while let first = inFlight.first, first.acknowledged {
            _ = inFlight.popFirst()
        }
        releaseSpace(effects: &effects)
    }

    private func segmentIndex(containing sequence: UInt64) -> Int? {
        var low = 0
        var high = segments.count
        while low < high {
            let middle = (low + high) / 2
            if segments[middle].firstSequence <= sequence {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low == 0 ? nil : low - 1
    }

    /// After room was freed: admits waiting appends in order, and ends a run of drops once
    /// the spool is back under half its cap.
    mutating func releaseSpace(effects: inout SpoolEffects) {
        while let waiter = appendWaiters.first {
            let cost = cost(of: waiter.record)
            if bytes + cost > maxBytes && !capLifted {
                sealIdleActiveSegment()
                if bytes + cost > maxBytes { break }
            }
            appendWaiters.removeFirst()
            guard case .appended(let sequence) = admit(waiter.record, recordCRC: waiter.recordCRC, effects: &effects) else {
                appendWaiters.insert(waiter, at: 0)
                break
            }
            admitted(sequence, continuation: waiter.continuation, effects: &effects)
        }
        if let start = dropEpisodeStart, bytes <= maxBytes / 2 {
            dropEpisodeStart = nil
            effects.logs.append(.droppingStopped(dropped: droppedRecords - start))
        }
        if wakeFlusherPending {
            wakeFlusherPending = false
            effects.wakeFlusher = true
        }
    }

    /// Resumes an appender now, or once its record is synced in `always` mode.
    mutating func admitted(_ sequence: UInt64, continuation: CheckedContinuation<SpoolEntryID, any Error>, effects: inout SpoolEffects) {
        if waitsForSync {
            durableWaiters.append((sequence, continuation))
        } else {
            effects.appends.append((continuation, .success(SpoolEntryID(sequence: sequence))))
        }
    }

    /// Hands every unacknowledged record out again, oldest first.
    mutating func requeueUnacknowledged(effects: inout SpoolEffects) {
        let records = inFlight.elements.filter { !$0.acknowledged }.map { QueuedRecord(sequence: $0.sequence, record: $0.record) }
        inFlight.removeAll()
        ready.prepend(contentsOf: records)
        readyBytes += records.reduce(0) { $0 + $1.record.count }
        if !records.isEmpty {
            wakeConsumers(&effects)
        }
    }

    mutating func wakeConsumers(_ effects: inout SpoolEffects) {
        guard !consumerWaiters.isEmpty else { return }
        effects.consumers.append(contentsOf: consumerWaiters.map(\.continuation))
        consumerWaiters.removeAll()
    }

    /// Stops enforcing `maxBytes` and the disk-full hold: waiting appends are admitted and
    /// later ones neither wait nor drop. For shutdown, when what is still in front of the
    /// spool was accepted from devices that are already disconnected: bounded, and refusing it
    /// would lose it.
    mutating func liftCap(effects: inout SpoolEffects) {
        capLifted = true
        releaseSpace(effects: &effects)
    }

    // MARK: Disk state (flusher side)

    /// A write failed: the disk counts as full, so the full policy applies beyond
    /// `diskFullHoldBytes`. The open segment is sealed on the first failure, so that it is
    /// deleted as soon as its records are acknowledged (or dropped) and its space comes back
    /// without an operator; appends then start a new segment.
    mutating func writeFailed(_ error: SpoolError, effects: inout SpoolEffects) {
        diskFull = true
        freedSinceWriteFailed = 0
        guard diskFailingSince == nil else { return }
        diskFailingSince = droppedRecords
        if let last = segments.indices.last, !segments[last].sealed, segments[last].size > 0 {
            segments[last].sealed = true
            if segments[last].pendingRecords == 0 {
                deleteSegment(at: last)
            }
        }
        effects.logs.append(.diskRefused(error, memoryBytes: unwrittenBytes, policy: fullPolicy))
    }

    /// Everything queued was written again: appends waiting for the disk go in.
    mutating func writesRecovered(effects: inout SpoolEffects) {
        diskFull = false
        freedSinceWriteFailed = 0
        if let start = diskFailingSince {
            diskFailingSince = nil
            effects.logs.append(.diskRecovered(memoryBytes: unwrittenBytes, dropped: droppedRecords - start))
        }
        releaseSpace(effects: &effects)
    }

    // MARK: Closing

    mutating func close(effects: inout SpoolEffects) {
        guard !closed else { return }
        closed = true
        for waiter in appendWaiters {
            effects.appends.append((waiter.continuation, .failure(SpoolError.closed)))
        }
        appendWaiters.removeAll()
        wakeConsumers(&effects)
        requestStop(.graceful, effects: &effects)
    }

    mutating func requestStop(_ request: SpoolStopRequest, effects: inout SpoolEffects) {
        closed = true
        if stopRequest != .crash {
            stopRequest = request
        }
        effects.wakeFlusher = true
        if !persistent {
            flusherStopped = true
        }
    }

    // MARK: Flusher side

    mutating func takeFlushWork() -> FlushWork {
        let work = FlushWork(writes: pendingWrites, deletions: pendingDeletions, watermark: lowestUnacknowledged, stop: stopRequest)
        pendingWrites.removeAll()
        pendingDeletions.removeAll()
        wakeFlusherPending = false
        flusherIdle = work.isEmpty
        return work
    }

    /// Records what the flusher wrote (and synced): readers may go further, and in
    /// `always` mode the appends it covers return.
    mutating func completeFlush(written: [PendingWrite], synced: Bool, syncCalls: Int, effects: inout SpoolEffects) {
        syncs += UInt64(syncCalls)
        for write in written {
            if let index = segments.firstIndex(where: { $0.firstSequence == write.segment }) {
                segments[index].writtenBytes += write.bytes.count
            }
        }
        if waitsForSync && synced, let end = written.last?.endSequence, end > durableBelow {
            durableBelow = end
            var waiting: [(sequence: UInt64, continuation: CheckedContinuation<SpoolEntryID, any Error>)] = []
            for waiter in durableWaiters {
                if waiter.sequence < end {
                    effects.appends.append((waiter.continuation, .success(SpoolEntryID(sequence: waiter.sequence))))
                } else {
                    waiting.append(waiter)
                }
            }
            durableWaiters = waiting
        }
        if !written.isEmpty {
            wakeConsumers(&effects)
        }
    }

    /// The flusher has stopped: fail what can no longer complete and release `close`.
    mutating func flusherDidStop(effects: inout SpoolEffects) -> [CheckedContinuation<Void, Never>] {
        flusherStopped = true
        for waiter in durableWaiters {
            effects.appends.append((waiter.continuation, .failure(SpoolError.closed)))
        }
        durableWaiters.removeAll()
        let waiters = closeWaiters
        closeWaiters.removeAll()
        return waiters
    }
}
