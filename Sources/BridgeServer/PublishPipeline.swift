import BridgeCore
import DequeModule
import Logging
import Mosquitto
import ServiceLifecycle
import Spool
import Synchronization

/// Moves accepted messages to the broker without losing them: `submit` (from the device
/// event loops, never blocking) → the spool, in order → MQTT publishes with up to `window`
/// in flight → acknowledged in the spool on PUBACK.
///
/// `submit` appends to the spool itself when the spool takes a record without waiting
/// (memory, `interval`, `never`) and nothing is queued ahead of it. Otherwise (`always` waits
/// for the fsync; `block` waits for room) records go to an ingress queue that an appender
/// task moves into the spool in batches; later submissions queue behind them, so order holds.
///
/// When the broker connection drops, publishes fail with `notConnected`; the pipeline waits
/// for the next connection and for the messages libmosquitto still had in flight (it resends
/// them itself), then hands the failed ones out again, so per-device order is kept.
public final class PublishPipeline: MessageSink, Service, Sendable {
    private struct Ingress: Sendable {
        var queue: Deque<PreparedRecord> = []
        var closed = false
        /// The appender holds a batch it has not appended yet: direct appends would overtake it.
        var appending = false
    }

    private let spool: Spool
    private let client: MosquittoClient
    private let metrics: BridgeMetrics
    private let logger: Logger
    private let window: InflightWindow
    private let connection: ConnectionGate
    private let ingress = WaitableState(Ingress())
    private let failedSinceRequeue = AtomicFlag()
    private let appenderFinished = Latch()
    private let droppedReported = Mutex<UInt64>(0)
    private let congested = Atomic<Bool>(false)
    private let appendFailures = Atomic<Int>(0)
    /// Publishes handed to the client and not completed yet (the window's slots also count
    /// those the publisher holds while it waits for records).
    private let awaitingAcknowledgement = Atomic<Int>(0)
    /// `acceptedAt` of the newest acknowledged record, and the last time the spool was seen
    /// empty (`sampleSpool`): every pending record came after both, which bounds the status
    /// page's oldest record age.
    private let lastAcknowledgedAcceptedAt = Atomic<Int64>(0)
    private let spoolSeenEmptyAt = Atomic<Int64>(0)
    /// `--trace-stages`: times `spool_append`, `spool_wait`, `publish_call` and `puback`.
    private let trace: StageTrace?

    public init(
        spool: Spool, client: MosquittoClient, metrics: BridgeMetrics, logger: Logger, window: Int = 256, trace: StageTrace? = nil
    ) {
        self.trace = trace
        self.spool = spool
        self.client = client
        self.metrics = metrics
        self.logger = logger
        self.window = InflightWindow(capacity: window)
        connection = ConnectionGate()
    }

    /// Records waiting for the spool beyond which device reads pause (`isCongested`). The
    /// appender normally drains the queue within milliseconds; it only fills when `append`
    /// blocks (`--spool-full block` with a full spool) or the disk stalls.
    public static let ingressLimit = 4096

    /// Read for every frame by every device event loop, so an atomic rather than the ingress
    /// lock (which the loops contended for); set and cleared under that lock.
    public var isCongested: Bool { congested.load(ordering: .relaxed) }

    public func submit(_ message: OutboundMessage) {
        let spool = self.spool
        let record: PreparedRecord
        do {
            // Outside the ingress lock: the checksum covers the whole record.
            record = try spool.prepare(SpoolRecord(message, acceptedAt: WallClock.milliseconds()).encoded())
        } catch {
            appendFailed(error)
            return
        }
        let trace = self.trace
        var failure: (any Error)?
        ingress.update { state in
            guard !state.closed else { return }
            if state.queue.isEmpty, !state.appending {
                // Under the ingress lock, so concurrent submitters append in one order.
                do {
                    let startedAt = trace?.now()
                    if let id = try spool.appendIfImmediate(record) {
                        if let trace, let startedAt {
                            let appendedAt = trace.now()
                            trace.record(.spoolAppend, from: startedAt, to: appendedAt)
                            trace.appended(sequence: id.sequence, at: appendedAt)
                        }
                        return
                    }
                } catch {
                    failure = error
                    return
                }
            }
            state.queue.append(record)
            if state.queue.count == Self.ingressLimit { congested.store(true, ordering: .relaxed) }
        }
        if let failure { appendFailed(failure) }
    }

    private func appendFailed(_ error: any Error) {
        appendFailures.add(1, ordering: .relaxed)
        logger.error("spool append failed; message lost", metadata: ["error": "\(error)", "count": "1"])
    }

    /// Tells the pipeline the broker connection's state (from the client's event stream).
    public func connectionChanged(connected: Bool) {
        connection.set(connected)
        metrics.mqttConnected.record(connected ? 1 : 0)
    }

    /// Runs the appender and the publisher until `stopAccepting` and `close` end them. It does
    /// not react to graceful shutdown by itself: the bridge sequences the shutdown (devices
    /// offline, drain, bridge offline), see `Bridge`.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.appendLoop() }
            group.addTask { await self.publishLoop() }
            await group.waitForAll()
        }
    }

    /// Shutdown, step 1: refuses further submissions and returns once everything submitted
    /// before is in the spool. The spool's cap is lifted first: with a full spool in `block`
    /// mode the appender would otherwise wait for acknowledgements a hung broker never sends,
    /// and these last records (the devices are already gone) would be lost at close.
    public func stopAccepting() async {
        ingress.update { $0.closed = true }
        spool.liftCap()
        try? await appenderFinished.wait()
    }

    /// Messages that never reached the spool because appending failed (each logged as lost).
    public var lostBeforeSpool: Int { appendFailures.load(ordering: .relaxed) }

    /// Shutdown, last step: ends the publisher (even while it waits for room in a window a
    /// hung broker keeps full) and closes the spool; what is still in it is published first
    /// at the next start.
    public func close() async {
        connection.close()
        window.close()
        await spool.close()
    }

    /// Waits until every submitted message is acknowledged by the broker or `deadline` passes;
    /// true when everything was published.
    public func drain(until deadline: ContinuousClock.Instant) async -> Bool {
        while ContinuousClock.now < deadline {
            let queued = ingress.withLock { $0.queue.count }
            // Unacknowledged records stay pending in the spool, so this is "all acknowledged".
            // (In-flight window slots are no measure: the publisher holds some while it
            // waits for new records.)
            if queued == 0, spool.statistics.pendingRecords == 0 { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    // MARK: - Appending

    private func appendLoop() async {
        while true {
            // Cancelled only when the bridge's run ends without `stopAccepting` (a failed start).
            guard let (batch, closed) = try? await nextBatch() else {
                appenderFinished.open()
                return
            }
            do {
                let startedAt = trace?.now()
                try await spool.append(contentsOf: Array(batch))
                if let trace, let startedAt { trace.record(.spoolAppend, from: startedAt, to: trace.now(), count: batch.count) }
            } catch {
                appendFailures.add(batch.count, ordering: .relaxed)
                logger.error("spool append failed; messages lost", metadata: [
                    "error": "\(error)", "count": "\(batch.count)",
                ])
            }
            ingress.withLock { $0.appending = false }
            if closed {
                appenderFinished.open()
                return
            }
        }
    }

    private func nextBatch() async throws(CancellationError) -> (Deque<PreparedRecord>, Bool) {
        try await ingress.wait { [self] state in
            guard !state.queue.isEmpty || state.closed else { return nil }
            defer {
                state.queue.removeAll(keepingCapacity: true)
                congested.store(false, ordering: .relaxed)
            }
            state.appending = true
            return (state.queue, state.closed)
        }
    }

    /// Publishes awaiting their PUBACK (`--mqtt-max-inflight` at most).
    public var publishesInFlight: Int { awaitingAcknowledgement.load(ordering: .relaxed) }

    /// The earliest time the oldest record in the spool can have been accepted: records are
    /// published in order, so every pending one came after the newest acknowledged one and
    /// after the spool was last seen empty (records replayed from an earlier run count from
    /// `startedAt`). Exact to about a second when the spool fills during an outage. nil when
    /// the spool is empty.
    public func oldestPendingAcceptedAt(startedAt: Int64) -> Int64? {
        guard spool.statistics.pendingRecords > 0 else { return nil }
        let bound = max(lastAcknowledgedAcceptedAt.load(ordering: .relaxed), spoolSeenEmptyAt.load(ordering: .relaxed))
        return bound > 0 ? bound : startedAt
    }

    /// Notes whether the spool is empty now; called about once a second (one spool lock), so
    /// that a record arriving after a quiet hour is not taken for an hour old.
    public func sampleSpool(now: Int64) {
        if spool.statistics.pendingRecords == 0 {
            _ = spoolSeenEmptyAt.max(now, ordering: .relaxed)
        }
    }

    /// Spool size and drops as metrics, read from the spool when `/metrics` is scraped rather
    /// than after every append on the hot path.
    func reportSpoolStatistics() {
        let statistics = spool.statistics
        metrics.spoolBytes.record(statistics.bytes)
        metrics.spoolMemoryBytes.record(statistics.memoryBytes)
        metrics.spoolDiskFull.record(statistics.diskFull ? 1 : 0)
        let newlyDropped = droppedReported.withLock { reported -> UInt64 in
            defer { reported = max(reported, statistics.droppedRecords) }
            return statistics.droppedRecords > reported ? statistics.droppedRecords - reported : 0
        }
        if newlyDropped > 0 { metrics.spoolDropped.increment(by: Int64(newlyDropped)) }
    }

    // MARK: - Publishing

    private func publishLoop() async {
        while await connection.waitUntilOpen() {
            if failedSinceRequeue.value {
                // Let libmosquitto finish what it resends itself, then hand the failed out again.
                await window.waitUntilEmpty()
                failedSinceRequeue.set(false)
                spool.requeueUnacknowledged()
            }
            let free = await window.acquireUpTo(256)
            if free == 0 { return }
            // `take` waits for records; it returns none once the spool is closed (shutdown).
            // If the connection drops meanwhile, the publishes fail and the loop waits above.
            let entries = (try? await spool.take(upTo: free)) ?? []
            window.release(free - entries.count)
            if entries.isEmpty { return }
            for entry in entries {
                publish(entry)
            }
        }
    }

    private func publish(_ entry: SpoolEntry) {
        guard let record = SpoolRecord(decoding: entry.record) else {
            logger.error("unreadable spool record skipped", metadata: ["spool.entry": "\(entry.id)"])
            spool.acknowledge(entry.id)
            window.release(1)
            return
        }
        let spool = self.spool
        let window = self.window
        let metrics = self.metrics
        let logger = self.logger
        let failed = failedSinceRequeue
        let properties = PublishProperties(correlationData: record.correlationData)
        let trace = self.trace
        let calledAt = trace?.now()
        if let trace, let calledAt { trace.taken(sequence: entry.id.sequence, at: calledAt) }
        awaitingAcknowledgement.add(1, ordering: .relaxed)
        client.publish(
            topic: record.topic, payload: record.payload, qos: Int(record.qos), retain: record.retain, properties: properties
        ) { result in
            self.awaitingAcknowledgement.subtract(1, ordering: .relaxed)
            switch result {
            case .success:
                if let trace, let calledAt { trace.record(.puback, from: calledAt, to: trace.now()) }
                spool.acknowledge(entry.id)
                _ = self.lastAcknowledgedAcceptedAt.max(record.acceptedAt, ordering: .relaxed)
                let latency = max(0, WallClock.milliseconds() - record.acceptedAt)
                metrics.publishSeconds.recordNanoseconds(latency * 1_000_000)
            case .failure(let error) where error.kind == .notConnected || error.kind == .shutdown:
                failed.set(true)
            case .failure(let error):
                // The broker refused it (ACL, quota): retrying would loop forever.
                logger.error("broker refused a publish; dropped", metadata: [
                    "topic": "\(record.topic)", "error": "\(error)",
                ])
                spool.acknowledge(entry.id)
            }
            window.release(1)
        }
        if let trace, let calledAt { trace.record(.publishCall, from: calledAt, to: trace.now()) }
    }
}
