import Logging

/// At most one log line per key (reason and peer) per interval; the next line reports how
/// many were suppressed. Keeps a hostile peer from flooding the log while leaving a trace.
struct LogLimiter: Sendable {
    let interval: Int64
    private var entries: [String: (last: Int64, suppressed: Int)] = [:]

    init(intervalMilliseconds: Int64 = 10_000) {
        interval = intervalMilliseconds
    }

    /// Returns the number of suppressed lines to report when a line may be logged now, nil
    /// when this one is suppressed.
    mutating func admit(_ key: String, now: Int64) -> Int? {
        if let entry = entries[key], now - entry.last < interval {
            entries[key] = (entry.last, entry.suppressed + 1)
            return nil
        }
        let suppressed = entries[key]?.suppressed ?? 0
        entries[key] = (now, 0)
        if entries.count > 10_000 {
            entries = entries.filter { now - $0.value.last < interval }
        }
        return suppressed
    }
}

/// At most `limit` events per key per second (dead letters per source IP).
struct RateWindow: Sendable {
    let limit: Int
    private var windows: [String: (second: Int64, count: Int)] = [:]

    init(perSecond limit: Int) {
        self.limit = limit
    }

    mutating func admit(_ key: String, now: Int64) -> Bool {
        let second = now / 1000
        var window = windows[key] ?? (second, 0)
        if window.second != second { window = (second, 0) }
        window.count += 1
        windows[key] = window
        if windows.count > 10_000 {
            windows = windows.filter { $0.value.second == second }
        }
        return window.count <= limit
    }
}
