/// The per-session frame rate limit (`--frame-rate-limit`: a rate and a burst). When it runs
/// dry the listener stops reading that socket until tokens refill: excess frames wait in
/// the kernel and on the device (backpressure) instead of being dropped.
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
        return Int64((-tokens / ratePerSecond * 1000).rounded(.up))
    }

    private mutating func refill(now: Int64) {
        let elapsed = Double(max(0, now - updatedAt)) / 1000
        tokens = min(burst, tokens + elapsed * ratePerSecond)
        updatedAt = now
    }
}
