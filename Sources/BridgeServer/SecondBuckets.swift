/// Events per second over the last minute, in 60 one-second buckets: what the status page's
/// frames/s and dead letters/s sparklines draw. Fixed size; adding is a division and a store.
struct SecondBuckets: Sendable, Equatable {
    static let seconds = 60

    private var counts = [Int](repeating: 0, count: SecondBuckets.seconds)
    /// The second (since the epoch) of the newest bucket.
    private var newest: Int64 = 0

    mutating func add(at milliseconds: Int64) {
        let second = milliseconds / 1000
        advance(to: second)
        // A clock step backwards lands in the newest bucket rather than rewriting history.
        counts[Self.slot(max(second, newest))] += 1
    }

    /// The counts of the 60 seconds ending at `milliseconds`, oldest first (the current,
    /// incomplete second last).
    func perSecond(at milliseconds: Int64) -> [Int] {
        var copy = self
        copy.advance(to: milliseconds / 1000)
        let end = copy.newest
        return (0..<Int64(Self.seconds)).map { offset in
            copy.counts[Self.slot(end - Int64(Self.seconds) + 1 + offset)]
        }
    }

    private static func slot(_ second: Int64) -> Int {
        Int(((second % Int64(seconds)) + Int64(seconds)) % Int64(seconds))
    }

    private mutating func advance(to second: Int64) {
        guard second > newest else { return }
        let gap = min(second - newest, Int64(Self.seconds))
        for step in 1...gap {
            counts[Self.slot(newest + step)] = 0
        }
        newest = second
    }
}
