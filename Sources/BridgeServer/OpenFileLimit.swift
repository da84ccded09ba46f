#if canImport(Glibc)
import Glibc
#endif

/// The process's open-file limit. Shells, supervisors and plain containers start a process
/// with a soft limit of 1024 while the hard limit is far higher, and every tracker connection
/// is a descriptor: at the soft limit the bridge silently stops accepting (trackers wait in
/// the kernel's backlog). So the bridge raises its soft limit to the hard one at start, as
/// Go's runtime does for every program, and says when even the hard limit is too low.
public enum OpenFileLimit {
    /// Descriptors needed besides device connections: the spool's segments, lock and
    /// acknowledgement files, the broker connection, the HTTP listener and its clients, the
    /// event loops' own descriptors.
    public static let headroom = 64

    /// The soft and hard limits now in force, or `nil` when they cannot be read.
    public static func current() -> (soft: UInt64, hard: UInt64)? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    /// Raises the soft limit to the hard limit; returns the limits in force afterwards.
    @discardableResult
    public static func raiseSoftLimit() -> (soft: UInt64, hard: UInt64)? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised)
        }
        return current()
    }

    /// The start-up warning when the hard limit cannot hold `maxConnections` plus `headroom`;
    /// `nil` when it can.
    public static func shortfall(hard: UInt64, maxConnections: Int) -> String? {
        let needed = UInt64(maxConnections) + UInt64(headroom)
        guard hard < needed else { return nil }
        return "open-file limit \(hard) is below --max-connections \(maxConnections) plus \(headroom) for the spool, "
            + "the broker and HTTP: at most about \(hard > UInt64(headroom) ? hard - UInt64(headroom) : 0) trackers can connect; "
            + "raise LimitNOFILE (systemd) or ulimit -Hn, or lower --max-connections"
    }
}
