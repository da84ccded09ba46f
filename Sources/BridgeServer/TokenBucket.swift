/// A rate and a burst per TCP connection: frames (`--frame-rate-limit`) or bytes (the byte
/// budget). When it runs dry the listener stops reading that socket until tokens refill:
/// excess input waits in the kernel and on the device (backpressure) instead of being
/// dropped. Times are milliseconds of a monotonic clock.
struct TokenBucket: Sendable {
    let ratePerSecond: Double
    let burst: Double
    private var tokens: Double
    private var updatedAt: Int64

    init(ratePerSecond: Double, burst: Double, now: Int64) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        tokens = burst
        updatedAt = now
    }

    /// Takes `count` tokens (it may go negative: frames already read are never refused).
    /// Returns how many milliseconds to pause reading, 0 when none.
    mutating func take(_ count: Int, now: Int64) -> Int64 {
        refill(now: now)
        tokens -= Double(count)
        guard tokens < 0 else { return 0 }
        return Int64((-tokens * 1000 / ratePerSecond).rounded(.up))
    }

    /// Takes `count` tokens only if there are that many: for input that can be refused
    /// without harm to a tracker within its budget (a datagram), where `take` is for input
    /// already read. Refused input costs nothing, so a flood ends its penalty when it stops.
    mutating func admit(_ count: Int, now: Int64) -> Bool {
        refill(now: now)
        guard tokens >= Double(count) else { return false }
        tokens -= Double(count)
        return true
    }

    private mutating func refill(now: Int64) {
        // Milliseconds times the rate, then divided: exact for whole rates, so a debt is paid
        // on the very millisecond it was announced to be.
        tokens = min(burst, tokens + Double(max(0, now - updatedAt)) * ratePerSecond / 1000)
        updatedAt = now
    }
}
