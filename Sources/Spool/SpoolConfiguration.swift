/// How a `Spool` stores records and when it makes them durable. Mirrors the `--spool-*`
/// flags of the contract.
public struct SpoolConfiguration: Sendable {
    /// Where records live.
    public enum Storage: Sendable, Equatable {
        /// A bounded queue in memory: a restart loses it.
        case memory
        /// Segment files in this directory (created if missing).
        case directory(String)
    }

    /// When appended records are forced to stable storage (`--spool-sync`).
    public enum SyncMode: String, Sendable, CaseIterable {
        /// `append` returns after `fdatasync`; concurrent appends share one.
        case always
        /// Written to the kernel at once, `fdatasync` every `syncInterval`.
        case interval
        /// Written to the kernel at once; the OS decides when it reaches the disk.
        case never
    }

    /// What `append` does when the spool holds `maxBytes` (`--spool-full`).
    public enum FullPolicy: String, Sendable, CaseIterable {
        /// Drop the oldest unacknowledged records (whole segments on disk) to make room.
        case dropOldest = "drop-oldest"
        /// Suspend `append` until acknowledgements free room: backpressure to devices.
        case block
    }

    public var storage: Storage
    public var syncMode: SyncMode
    /// Period of the background `fdatasync` in `interval` mode, and of saving the
    /// acknowledgement watermark in every mode.
    public var syncInterval: Duration
    /// Cap on `SpoolStatistics.bytes`.
    public var maxBytes: Int
    public var fullPolicy: FullPolicy
    /// Target size of one segment file. The spool uses at most an eighth of `maxBytes`, so
    /// dropping or deleting one segment never frees more than that share.
    public var segmentBytes: Int
    /// In directory mode, how many record bytes waiting to be taken are also kept in memory;
    /// beyond that, `take` reads them back from the segment files.
    public var memoryQueueBytes: Int
    /// In directory mode, how many bytes of records the spool keeps in memory only while the
    /// disk refuses writes (full, or failing); beyond that the disk counts as full and
    /// `fullPolicy` applies. Small, because such records are lost if the process dies.
    public var diskFullHoldBytes: Int
    /// The tests' seam for a failing disk: asked before every segment write; an errno makes
    /// that write fail as the kernel would (`ENOSPC` for a full disk), nothing written.
    package var writeFault: (@Sendable () -> Int32?)?

    public init(
        storage: Storage,
        syncMode: SyncMode = .interval,
        syncInterval: Duration = .milliseconds(100),
        maxBytes: Int = 1 << 30,
        fullPolicy: FullPolicy = .dropOldest,
        segmentBytes: Int = 32 << 20,
        memoryQueueBytes: Int = 64 << 20,
        diskFullHoldBytes: Int = 1 << 20
    ) {
        self.storage = storage
        self.syncMode = syncMode
        self.syncInterval = syncInterval
        self.maxBytes = maxBytes
        self.fullPolicy = fullPolicy
        self.segmentBytes = segmentBytes
        self.memoryQueueBytes = memoryQueueBytes
        self.diskFullHoldBytes = diskFullHoldBytes
    }

    /// The segment size actually used: at most an eighth of the cap, so a full spool always
    /// has older segments it can drop or wait for.
    var effectiveSegmentBytes: Int {
        max(1, min(segmentBytes, maxBytes / 8))
    }
}
