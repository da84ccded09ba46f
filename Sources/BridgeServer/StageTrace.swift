import BridgeCore
import NIOCore
import Synchronization

/// Where a frame's time goes between the socket and the broker's PUBACK, stage by stage
/// (`--trace-stages`, read at `/debug/stages`). A debugging aid for the performance work: the
/// end-to-end latency a subscriber sees says *that* a frame waited, these say *where*.
///
/// The stages, in the order a frame passes them:
/// - `decode`: one socket read through the connection's pipeline (splitting, decoding,
///   normalizing), for reads that complete at least one frame;
/// - `hub`: the hub's handling of that read's outputs (directory, observers, status page,
///   and the submission to the publish pipeline, `spool_append` included);
/// - `spool_append`: one record into the spool (or, when the spool makes records wait for an
///   fsync or for room, its batch, per record);
/// - `spool_wait`: from the record in the spool to the publisher taking it (waiting for a
///   slot in the in-flight window and for the publisher to wake up); records appended without
///   waiting only;
/// - `publish_call`: the `mosquitto_publish` call itself;
/// - `puback`: from that call to the completion on PUBACK (the broker's round trip and
///   libmosquitto's network thread).
///
/// Off by default and then free: every hook is behind an optional that is nil, so no clock is
/// read. On, each sample costs a clock read and a short lock per stage.
public final class StageTrace: Sendable {
    public enum Stage: String, CaseIterable, Sendable {
        case decode
        case hub
        case spoolAppend = "spool_append"
        case spoolWait = "spool_wait"
        case publishCall = "publish_call"
        case puback
    }

    /// One stage's figures since the last reset, in microseconds.
    struct Summary: Sendable {
        var stage: Stage
        var count: UInt64
        var p50: Double
        var p90: Double
        var p99: Double
        var max: Double
    }

    private final class Slot: Sendable {
        let histogram = Mutex(LatencyHistogram())
    }

    private let slots: [Slot] = Stage.allCases.map { _ in Slot() }
    /// When each record entered the spool, by spool sequence, until the publisher takes it;
    /// and when the publisher took a record whose append was not noted yet. The spool wakes
    /// the publisher before `appended` is called, so on a busy machine the publisher can take
    /// a record first: whichever side comes second records the sample.
    private struct Pending {
        /// Bounded: a spool backlog beyond `pendingLimit` records is not traced.
        var appended: [UInt64: UInt64] = [:]
        /// Also holds records whose append is never noted (batched by the appender, replayed
        /// from an earlier run), so it is emptied whenever it reaches `takenEarlyLimit`.
        var takenEarly: [UInt64: UInt64] = [:]
    }

    private let pending = Mutex(Pending())
    static let pendingLimit = 1_000_000
    static let takenEarlyLimit = 4096

    public init() {}

    /// The monotonic clock every stage is measured on, in nanoseconds.
    func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    /// Records `count` samples of `end - start` (a batch whose records all took that long).
    func record(_ stage: Stage, from start: UInt64, to end: UInt64, count: Int = 1) {
        let elapsed = end >= start ? end - start : 0
        slots[Self.index(stage)].histogram.withLock { $0.add(elapsed, count: UInt64(count)) }
    }

    /// Records `decode` (from `readAt` to `decodedAt`) and `hub` (from `decodedAt` to now) for
    /// one socket read; nothing when either is nil (tracing off, or no frame completed).
    func readHandled(readAt: UInt64?, decodedAt: UInt64?) {
        guard let readAt, let decodedAt else { return }
        record(.decode, from: readAt, to: decodedAt)
        record(.hub, from: decodedAt, to: now())
    }

    /// Notes that spool record `sequence` was appended at `time`.
    func appended(sequence: UInt64, at time: UInt64) {
        let takenAt = pending.withLock { pending -> UInt64? in
            if let takenAt = pending.takenEarly.removeValue(forKey: sequence) { return takenAt }
            if pending.appended.count < Self.pendingLimit { pending.appended[sequence] = time }
            return nil
        }
        // Taken before this note: it waited no longer than the note took (`record` counts 0).
        if let takenAt { record(.spoolWait, from: time, to: takenAt) }
    }

    /// Records `spool_wait` for record `sequence`, taken by the publisher at `time`.
    func taken(sequence: UInt64, at time: UInt64) {
        let start = pending.withLock { pending -> UInt64? in
            if let start = pending.appended.removeValue(forKey: sequence) { return start }
            if pending.takenEarly.count >= Self.takenEarlyLimit { pending.takenEarly.removeAll(keepingCapacity: true) }
            pending.takenEarly[sequence] = time
            return nil
        }
        if let start { record(.spoolWait, from: start, to: time) }
    }

    /// Every stage's figures; with `reset`, starts the next measurement afresh (a benchmark
    /// reads one load phase at a time).
    func summaries(reset: Bool = false) -> [Summary] {
        Stage.allCases.map { stage in
            let histogram = slots[Self.index(stage)].histogram.withLock { histogram in
                defer { if reset { histogram = LatencyHistogram() } }
                return histogram
            }
            return Summary(
                stage: stage, count: histogram.count, p50: histogram.quantile(0.5) / 1000, p90: histogram.quantile(0.9) / 1000,
                p99: histogram.quantile(0.99) / 1000, max: Double(histogram.maximum) / 1000)
        }
    }

    /// The `/debug/stages` body: `{"stages":[{"stage":"decode","count":N,"p50_us":…,…}]}`.
    func json(reset: Bool = false) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("stages")
        writer.beginArray()
        for summary in summaries(reset: reset) {
            writer.beginObject()
            writer.key("stage")
            writer.string(summary.stage.rawValue)
            writer.key("count")
            writer.integer(Int64(summary.count))
            writer.key("p50_us")
            writer.number(summary.p50, decimals: 1)
            writer.key("p90_us")
            writer.number(summary.p90, decimals: 1)
            writer.key("p99_us")
            writer.number(summary.p99, decimals: 1)
            writer.key("max_us")
            writer.number(summary.max, decimals: 1)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    /// Each stage's slot, looked up per sample (a search of `allCases` would be per sample too).
    private static let positions = Dictionary(uniqueKeysWithValues: Stage.allCases.enumerated().map { ($1, $0) })

    private static func index(_ stage: Stage) -> Int {
        positions[stage]!
    }
}

/// Durations in nanoseconds, counted in buckets 1/8 of a power of two wide (within 12.5%
/// of the true value), so quantiles come out of a fixed 4 KiB whatever the sample count.
struct LatencyHistogram: Sendable {
    private static let subBuckets = 8
    private var buckets = [UInt64](repeating: 0, count: 64 * subBuckets)
    private(set) var count: UInt64 = 0
    private(set) var maximum: UInt64 = 0

    mutating func add(_ nanoseconds: UInt64, count samples: UInt64 = 1) {
        buckets[Self.bucket(of: nanoseconds)] += samples
        count += samples
        maximum = max(maximum, nanoseconds)
    }

    /// The upper bound of the bucket holding the `q` quantile, at most the largest sample; 0
    /// when empty.
    func quantile(_ q: Double) -> Double {
        guard count > 0 else { return 0 }
        let rank = max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (index, n) in buckets.enumerated() where n > 0 {
            seen += n
            if seen >= rank { return Double(min(Self.upperBound(of: index), maximum)) }
        }
        return Double(maximum)
    }

    /// Values below 8 get a bucket each; above, the power of two (exponent) and the next
    /// three bits below the leading one choose the bucket.
    static func bucket(of value: UInt64) -> Int {
        guard value >= UInt64(subBuckets) else { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount
        let fraction = Int((value >> (exponent - 3)) & 7)
        return (exponent - 2) * subBuckets + fraction
    }

    static func upperBound(of index: Int) -> UInt64 {
        guard index >= subBuckets else { return UInt64(index) }
        let exponent = index / subBuckets + 2
        let fraction = UInt64(index % subBuckets)
        let base = (UInt64(8) | fraction) << (exponent - 3)
        let width = UInt64(1) << (exponent - 3)
        return base + (width - 1)
    }
}
