#if canImport(Glibc)
import Glibc
#endif

/// The real-time clock, in milliseconds since the Unix epoch. Only the executables and the
/// server layer read it; the core takes times as arguments.
public enum WallClock {
    public static func milliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
