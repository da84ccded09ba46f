import Synchronization

/// Counts open device connections in total and per source IP, refusing those over the limits.
final class ConnectionLimiter: Sendable {
    private struct Counts: Sendable {
        var total = 0
        var perIP: [String: Int] = [:]
    }

    let maxTotal: Int
    let maxPerIP: Int
    private let counts = Mutex(Counts())

    init(maxTotal: Int, maxPerIP: Int) {
        self.maxTotal = maxTotal
        self.maxPerIP = maxPerIP
    }

    /// Reserves a place for a connection from `ip`; false when a limit is reached.
    func acquire(ip: String) -> Bool {
        counts.withLock { counts in
            guard counts.total < maxTotal else { return false }
            let fromIP = counts.perIP[ip, default: 0]
            guard maxPerIP == 0 || fromIP < maxPerIP else { return false }
            counts.total += 1
            counts.perIP[ip] = fromIP + 1
            return true
        }
    }

    func release(ip: String) {
        counts.withLock { counts in
            counts.total -= 1
            let remaining = counts.perIP[ip, default: 1] - 1
            counts.perIP[ip] = remaining > 0 ? remaining : nil
        }
    }

    var total: Int { counts.withLock { $0.total } }
}
