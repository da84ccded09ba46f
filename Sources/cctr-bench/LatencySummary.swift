/// Percentiles of send-to-receipt latency, in milliseconds (nearest-rank).
struct LatencySummary: Codable, Equatable {
    var count: Int
    var p50: Double
    var p99: Double
    var max: Double

    init(nanoseconds: [Int64]) {
        let sorted = nanoseconds.sorted()
        count = sorted.count
        func rank(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = Swift.min(sorted.count - 1, Swift.max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
            return Double(sorted[index]) / 1e6
        }
        p50 = rank(0.50)
        p99 = rank(0.99)
        self.max = rank(1)
    }
}
