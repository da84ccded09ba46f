/// A snapshot of the spool's counters, cheap to read at any time (one lock).
public struct SpoolStatistics: Sendable, Equatable {
    /// Bytes held: segment files on disk (framing included), or record bytes in memory mode.
    /// Exported as `cctr_spool_bytes`.
    public var bytes: Int
    /// The part of `bytes` held in memory only, which a crash loses: all of it in memory mode;
    /// on disk, records not written yet (normally a millisecond's worth; up to
    /// `SpoolConfiguration.diskFullHoldBytes` while the disk refuses writes). Exported as
    /// `cctr_spool_memory_bytes`.
    public var memoryBytes: Int
    /// The disk refuses writes (full, or failing) and the full policy applies; cleared once a
    /// write succeeds again. Exported as `cctr_spool_disk_full`.
    public var diskFull: Bool
    /// Records appended (or replayed) and neither acknowledged nor dropped.
    public var pendingRecords: Int
    /// Records dropped by the `drop-oldest` policy. Exported as `cctr_spool_dropped_total`.
    public var droppedRecords: UInt64
    /// Unacknowledged records found on disk when the spool was opened.
    public var replayedRecords: Int
    /// Damaged regions skipped when the spool was opened (torn tails, bad checksums, garbage).
    public var corruptRecordsSkipped: Int
    /// `fdatasync` calls on segment files; with group commit this grows far slower than
    /// appends in `always` mode.
    public var syncs: UInt64
}
