import Foundation
import Logging

/// The queue between decoding and publishing: records (opaque bytes) are appended once read
/// from a device, handed to the publisher in append order, and forgotten once acknowledged
/// (on PUBACK). Whatever was appended and not acknowledged is replayed first after a restart,
/// in append order, which keeps each device's order.
///
/// ## On-disk format
/// A spool directory holds:
/// - `<first sequence, 20 decimal digits>.seg`: segment files of framed records, each
///   `magic u32 "SPOL" | length u32 | sequence u64 | crc32 u32 | record bytes` (little
///   endian; the CRC-32 covers the record bytes, length and sequence). Sequences increase by
///   one per append and across restarts. A segment is appended to until it reaches
///   `SpoolConfiguration.segmentBytes`, never after a restart, and is deleted once every
///   record in it is acknowledged or dropped.
/// - `ack`: the acknowledgement watermark (every sequence below it is acknowledged) in two
///   alternating checksummed slots, saved every `syncInterval` and on `close`. It is saved
///   lazily: after a crash, records acknowledged since the last save are published again,
///   which the payload ids inside them make harmless. Acknowledged segments are not replayed.
/// - `lock`: held with `flock` so two bridges cannot share a directory.
///
/// At open every segment is scanned. Damage (a tail torn by power loss, a bad checksum,
/// garbage) is skipped up to the next valid frame, counted in
/// `SpoolStatistics.corruptRecordsSkipped` and logged; no file content stops the spool from
/// opening. Other files in the directory are ignored.
///
/// ## Durability per `SpoolConfiguration.SyncMode`
/// - `always`: `append` returns once its record is `fdatasync`ed, and the publisher sees only
///   synced records. Nothing whose append returned is lost, whatever crashes (process, OS,
///   power). Concurrent appends share one `fdatasync` (group commit).
/// - `interval`: a background thread writes appended records to the kernel within about a
///   millisecond (what arrives in that millisecond shares one write) and syncs every
///   `syncInterval`. A process crash loses only records not yet handed to the kernel (about
///   the last millisecond); power loss or an OS crash loses at most the last interval.
/// - `never`: written to the kernel as in `interval`, synced only by `close`; the OS decides
///   otherwise.
/// In memory mode (no directory) nothing survives a restart.
///
/// When the spool holds `maxBytes`, `drop-oldest` drops whole oldest segments (single records
/// in memory mode), counting and logging it; `block` suspends `append` until acknowledgements
/// free room, which the bridge turns into backpressure on device sockets.
///
/// A full disk is a full spool. When a segment write fails (`ENOSPC`, or any other error),
/// records not yet written are held in memory only up to `diskFullHoldBytes`
/// (`SpoolStatistics.memoryBytes`), then the same policy applies: `block` waits until a write
/// succeeds again, `drop-oldest` drops whole oldest segments, deleting their files to make
/// room. The open segment is sealed at the first failure, so it is deleted once its records
/// are acknowledged: the space comes back without an operator, and writing resumes (retried
/// every second). Each episode logs one warning and one line when writing recovers.
///
/// Crashes are tested here by abandoning a spool without closing it (`simulateCrash`) and
/// reopening its directory; killing a process with SIGKILL is left to the bridge's
/// integration tests.
public final class Spool: Sendable {
    private let core: SpoolCore
    private let configuration: SpoolConfiguration

    /// Opens (creating if needed) the spool and scans what a previous run left. Reads every
    /// segment, so call it before serving traffic.
    public init(configuration: SpoolConfiguration, logger: Logger) throws(SpoolError) {
        self.configuration = configuration
        guard case .directory(let path) = configuration.storage else {
            core = SpoolCore(state: SpoolState(configuration: configuration, directory: nil, recovery: nil), logger: logger)
            return
        }
        try POSIXFile.makeDirectories(path)
        let directory = SpoolDirectory(path: path)
        var descriptors: [Int32] = []
        do {
            let lock = try POSIXFile.openForUpdate(directory.lockPath)
            descriptors.append(lock)
            try POSIXFile.lockExclusively(lock, path: directory.lockPath)
            let recovery = try directory.recover(logger: logger)
            let acknowledgement = try POSIXFile.openForUpdate(directory.acknowledgementPath)
            descriptors.append(acknowledgement)
            let directoryDescriptor = try POSIXFile.openDirectory(path)
            descriptors.append(directoryDescriptor)
            if recovery.replayedRecords > 0 || recovery.corruptRecords > 0 {
                logger.info(
                    "spool opened with records to replay",
                    metadata: [
                        "spool.path": "\(path)", "spool.replayed": "\(recovery.replayedRecords)",
                        "spool.damaged": "\(recovery.corruptRecords)",
                    ]
                )
            }
            let core = SpoolCore(
                state: SpoolState(configuration: configuration, directory: directory, recovery: recovery),
                logger: logger
            )
            self.core = core
            let flusherThread = Thread {
                // Named from inside: on Linux, Foundation passes `Thread.name` to the OS only for
                // the current thread (and the OS keeps 15 bytes).
                Thread.current.name = "cctr-spool"
                var flusher = SpoolFlusher(
                    core: core, directory: directory, configuration: configuration,
                    directoryDescriptor: directoryDescriptor, acknowledgementDescriptor: acknowledgement,
                    lockDescriptor: lock, watermark: recovery.watermark,
                    acknowledgementGeneration: recovery.acknowledgementGeneration
                )
                flusher.run()
            }
            flusherThread.start()
        } catch {
            for descriptor in descriptors {
                POSIXFile.close(descriptor)
            }
            throw error
        }
    }

    deinit {
        core.withState { state, effects in state.requestStop(.graceful, effects: &effects) }
    }

    /// Appends a record and returns its id. In `always` mode it returns once the record is
    /// synced (that wait ignores cancellation: the record is already in the spool). When the
    /// spool is full in `block` mode it suspends until room frees up; cancelling that wait
    /// throws `CancellationError` and appends nothing.
    public func append(_ record: [UInt8]) async throws -> SpoolEntryID {
        try await append(prepare(record))
    }

    /// `append` for a record prepared earlier.
    public func append(_ record: PreparedRecord) async throws -> SpoolEntryID {
        if let id = try appendIfImmediate(record) { return id }
        return try await appendSuspending(record)
    }

    /// Checks the record's size and computes its checksum (0 in memory), the part of appending
    /// that needs no lock: callers that append under a lock of their own prepare first.
    public func prepare(_ record: [UInt8]) throws -> PreparedRecord {
        let cost = configuration.storage == .memory ? record.count : RecordFrame.headerSize + record.count
        guard record.count <= RecordFrame.maxRecordBytes, cost <= configuration.maxBytes else {
            throw SpoolError.recordTooLarge(size: record.count, limit: min(RecordFrame.maxRecordBytes, configuration.maxBytes))
        }
        return PreparedRecord(bytes: record, crc: configuration.storage == .memory ? 0 : CRC32.checksum(record))
    }

    /// Appends the record if that needs no waiting, from any thread: returns `nil`, appending
    /// nothing, when `append` would suspend (the sync of `always` mode on disk, or a full spool
    /// in `block` mode). Lets a caller skip a task hop per record on the hot path.
    public func appendIfImmediate(_ record: [UInt8]) throws -> SpoolEntryID? {
        try appendIfImmediate(prepare(record))
    }

    /// `appendIfImmediate` for a record prepared earlier.
    public func appendIfImmediate(_ record: PreparedRecord) throws -> SpoolEntryID? {
        guard configuration.syncMode != .always || configuration.storage == .memory else { return nil }
        let outcome = core.withState { state, effects in
            state.append(record.bytes, recordCRC: record.crc, effects: &effects)
        }
        switch outcome {
        case .appended(let sequence): return SpoolEntryID(sequence: sequence)
        case .failed(let error): throw error
        case .full: return nil
        }
    }

    /// Appends records in order. In `always` mode it returns once all of them are synced,
    /// and they share the syncs: the bridge's appender hands over everything that arrived
    /// since its last call, so a busy bridge pays one `fdatasync` per batch, not per record.
    public func append(contentsOf records: [PreparedRecord]) async throws {
        guard let last = records.last else { return }
        for record in records.dropLast() {
            try await appendWithoutWaitingForSync(record)
        }
        _ = try await append(last)
    }

    /// Like `append`, but in `always` mode it does not wait for the sync (a later `append`
    /// of the same task does, and syncs are in order).
    private func appendWithoutWaitingForSync(_ record: PreparedRecord) async throws {
        let outcome = core.withState { state, effects in
            state.append(record.bytes, recordCRC: record.crc, effects: &effects)
        }
        switch outcome {
        case .appended: return
        case .failed(let error): throw error
        case .full: _ = try await appendSuspending(record)
        }
    }

    /// The append path that may wait: for room in `block` mode, or for the sync in `always`.
    private func appendSuspending(_ record: PreparedRecord) async throws -> SpoolEntryID {
        let id = core.withState { state, _ in state.makeWaiterID() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                core.withState { state, effects in
                    switch state.append(record.bytes, recordCRC: record.crc, effects: &effects) {
                    case .appended(let sequence):
                        state.admitted(sequence, continuation: continuation, effects: &effects)
                    case .failed(let error):
                        effects.appends.append((continuation, .failure(error)))
                    case .full where Task.isCancelled:
                        effects.appends.append((continuation, .failure(CancellationError())))
                    case .full:
                        state.appendWaiters.append(
                            .init(id: id, record: record.bytes, recordCRC: record.crc, continuation: continuation)
                        )
                    }
                }
            }
        } onCancel: {
            core.withState { state, effects in
                if let index = state.appendWaiters.firstIndex(where: { $0.id == id }) {
                    let waiter = state.appendWaiters.remove(at: index)
                    effects.appends.append((waiter.continuation, .failure(CancellationError())))
                    state.releaseSpace(effects: &effects)
                }
            }
        }
    }

    /// Takes up to `maxCount` records to publish, oldest first, waiting until there is at
    /// least one. Returns an empty array once the spool is closed. Taken records stay in the
    /// spool until acknowledged, and are handed out again after `requeueUnacknowledged`.
    public func take(upTo maxCount: Int = 256) async throws -> [SpoolEntry] {
        precondition(maxCount > 0, "take needs room for at least one record")
        while true {
            try Task.checkCancellation()
            let entries = core.withState { state, effects in
                state.closed ? [] : state.take(upTo: maxCount, effects: &effects)
            }
            if !entries.isEmpty || core.withState({ state, _ in state.closed }) {
                return entries
            }
            let id = core.withState { state, _ in state.makeWaiterID() }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let resumeNow = core.withState { state, _ in
                        if state.hasAvailable || state.closed || Task.isCancelled {
                            return true
                        }
                        state.consumerWaiters.append((id, continuation))
                        return false
                    }
                    if resumeNow {
                        continuation.resume()
                    }
                }
            } onCancel: {
                core.withState { state, effects in
                    if let index = state.consumerWaiters.firstIndex(where: { $0.id == id }) {
                        effects.consumers.append(state.consumerWaiters.remove(at: index).continuation)
                    }
                }
            }
        }
    }

    /// Marks a taken record as published; its bytes are freed once its whole segment is.
    /// Unknown or repeated ids are ignored.
    public func acknowledge(_ id: SpoolEntryID) {
        core.withState { state, effects in state.acknowledge(id.sequence, effects: &effects) }
    }

    /// Acknowledges many records under one lock.
    public func acknowledge(_ ids: some Sequence<SpoolEntryID>) {
        core.withState { state, effects in
            for id in ids {
                state.acknowledge(id.sequence, effects: &effects)
            }
        }
    }

    /// Hands every taken but unacknowledged record out again, before anything newer: call it
    /// when the broker connection drops with publishes in flight.
    public func requeueUnacknowledged() {
        core.withState { state, effects in state.requeueUnacknowledged(effects: &effects) }
    }

    /// Stops enforcing `maxBytes` and the disk-full hold: waiting appends are admitted, later
    /// ones never wait or drop. For shutdown: records accepted from devices that are already
    /// disconnected are few, and refusing them would lose them.
    public func liftCap() {
        core.withState { state, effects in state.liftCap(effects: &effects) }
    }

    public var statistics: SpoolStatistics {
        core.state.withLock { $0.statistics }
    }

    /// Stops accepting appends (waiting ones fail with `SpoolError.closed`), writes and syncs
    /// everything appended, saves the acknowledgement watermark and releases the directory.
    public func close() async {
        await stop(.graceful)
    }

    /// Stops like a crashed process would: nothing more is written or synced, files are
    /// closed. What the kernel already has stays, as after a real crash. For tests.
    package func simulateCrash() async {
        await stop(.crash)
    }

    private func stop(_ request: SpoolStopRequest) async {
        await withCheckedContinuation { continuation in
            let stopped = core.withState { state, effects in
                if request == .graceful {
                    state.close(effects: &effects)
                } else {
                    state.requestStop(.crash, effects: &effects)
                    for waiter in state.appendWaiters {
                        effects.appends.append((waiter.continuation, .failure(SpoolError.closed)))
                    }
                    state.appendWaiters.removeAll()
                    state.wakeConsumers(&effects)
                }
                if state.flusherStopped {
                    return true
                }
                state.closeWaiters.append(continuation)
                return false
            }
            if stopped {
                continuation.resume()
            }
        }
    }
}
