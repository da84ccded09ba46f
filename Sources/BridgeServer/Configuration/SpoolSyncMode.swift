/// When the spool calls fsync (`--spool-sync`).
public enum SpoolSyncMode: String, Sendable, Equatable, CaseIterable {
    /// After every write; publishing waits for it.
    case always
    /// Every `--spool-sync-interval` milliseconds.
    case interval
    /// Never; the kernel writes back when it likes.
    case never
}
