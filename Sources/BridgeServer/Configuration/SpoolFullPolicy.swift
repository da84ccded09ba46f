/// What a spool at `--spool-max-bytes` does (`--spool-full`).
public enum SpoolFullPolicy: String, Sendable, Equatable, CaseIterable {
    /// Drop the oldest messages to make room (counted in `cctr_spool_dropped_total`).
    case dropOldest = "drop-oldest"
    /// Stop reading device sockets until there is room (backpressure).
    case block
}
