/// One segment file as the spool tracks it. Only the last segment takes appends, and only
/// while not `sealed`; segments recovered at open are sealed, so a torn tail is never
/// appended to.
struct Segment {
    let firstSequence: UInt64
    /// Bytes appended, including those still waiting for the flusher.
    var size: Int
    /// Bytes the flusher has written (and, in `always` mode, synced): readers stop here.
    var writtenBytes: Int
    var sealed: Bool
    /// Records in this segment neither acknowledged nor dropped; at zero a sealed segment
    /// is deleted.
    var pendingRecords: Int
}

/// Framed records waiting for the flusher, all for one segment.
struct PendingWrite: Sendable {
    let segment: UInt64
    var bytes: [UInt8]
    /// How many leading bytes are already written (after a failed write).
    var written = 0
    /// One past the last sequence in `bytes`.
    var endSequence: UInt64
}
