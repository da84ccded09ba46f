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

/// At most `limit` events per key per second.
///
/// Handlers on different event loops read the clock before they take the lock, so times
/// arrive out of order around a second's boundary. A window therefore only ever moves
/// forward: an event stamped before its key's current second counts in that second
/// instead of reopening an old one (which would grant a fresh `limit` each time the times
/// cross back and forth).
struct RateWindow: Sendable {
    let limit: Int
    private var windows: [String: (second: Int64, count: Int)] = [:]

    init(perSecond limit: Int) {
        self.limit = limit
    }

    mutating func admit(_ key: String, now: Int64) -> Bool {
        let second = now >= 0 ? now / 1000 : (now - 999) / 1000
        var window = windows[key] ?? (second, 0)
        if second > window.second { window = (second, 0) }
        window.count += 1
        windows[key] = window
        if windows.count > 10_000 {
            windows = windows.filter { $0.value.second >= second }
        }
        return window.count <= limit
    }
}

/// The dead-letter limits of serve: at most `perAddress` a second from one source IP (the
/// contract's 5), and at most `total` a second from all addresses together, so an attacker
/// spread over many addresses cannot flood the broker's dead-letter topic either. A dead
/// letter refused by its address's limit does not use up the global one.
struct DeadLetterLimit: Sendable {
    private var perAddress: RateWindow
    private var total: RateWindow

    init(perAddress: Int, total: Int) {
        self.perAddress = RateWindow(perSecond: perAddress)
        self.total = RateWindow(perSecond: total)
    }

    mutating func admit(ip: String, now: Int64) -> Bool {
        perAddress.admit(ip, now: now) && total.admit("", now: now)
    }
}
