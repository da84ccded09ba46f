import Foundation

/// The subscriber's result, printed as JSON (for scripts) and as text (for people).
struct DeliveryReport: Codable {
    var received: Int
    var unique: Int
    var duplicates: Int
    var reordered: Int
    var withoutSequence: Int
    /// Retained messages delivered for the subscription, not counted.
    var ignoredRetained: Int
    /// Payloads without an id or device id, not counted.
    var ignoredUnreadable: Int
    var devices: Int
    /// Sequence gaps between each device's lowest and highest received sequence.
    var gaps: Int
    /// Lines in the send log; `nil` without one.
    var sent: Int?
    /// Send-log entries never received; `nil` without a send log.
    var lost: Int?
    /// Up to 20 of the lost messages (`device_id sequence`), to look for a pattern.
    var lostSample: [String]?
    /// Unique messages per second between the first and the last receipt.
    var messagesPerSecond: Double
    var seconds: Double
    var latencyMilliseconds: LatencySummary?
    /// The same for messages sent from `warmUp` seconds after the first send on: without the
    /// start, where every tracker connects and logs in at once.
    var steadyLatencyMilliseconds: LatencySummary?

    init(tally: DeliveryTally, sendLog: [SendLogReader.Entry]?, warmUp: Double = 2) {
        received = tally.received
        unique = tally.unique
        duplicates = tally.duplicates
        reordered = tally.reordered
        withoutSequence = tally.withoutSequence
        ignoredRetained = tally.ignoredRetained
        ignoredUnreadable = tally.ignoredUnreadable
        devices = tally.deviceCount
        gaps = tally.gaps
        let span = tally.firstReceipt.flatMap { first in tally.lastReceipt.map { $0 - first } } ?? 0
        seconds = Double(span) / 1e9
        messagesPerSecond = span > 0 ? Double(tally.unique) / seconds : 0
        if let sendLog {
            var latencies: [Int64] = []
            var steady: [Int64] = []
            var lostSample: [String] = []
            latencies.reserveCapacity(sendLog.count)
            let steadyFrom = (sendLog.lazy.map(\.unixNanoseconds).min() ?? 0) + Int64(warmUp * 1e9)
            for entry in sendLog {
                if let receipt = tally.receipt(deviceID: entry.deviceID, sequence: entry.sequence) {
                    latencies.append(receipt - entry.unixNanoseconds)
                    if entry.unixNanoseconds >= steadyFrom { steady.append(receipt - entry.unixNanoseconds) }
                } else if lostSample.count < 20 {
                    lostSample.append("\(entry.deviceID) \(entry.sequence)")
                }
            }
            self.lostSample = lostSample
            sent = sendLog.count
            lost = sendLog.count - latencies.count
            latencyMilliseconds = LatencySummary(nanoseconds: latencies)
            steadyLatencyMilliseconds = LatencySummary(nanoseconds: steady)
        }
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    var text: String {
        var lines = [
            "received \(received) (unique \(unique), duplicates \(duplicates)) from \(devices) devices in \(String(format: "%.2f", seconds)) s: \(Int(messagesPerSecond)) msg/s",
            "reordered \(reordered), sequence gaps \(gaps), without sequence \(withoutSequence), ignored: \(ignoredRetained) retained, \(ignoredUnreadable) unreadable",
        ]
        if let sent, let lost { lines.append("sent \(sent), lost \(lost)") }
        if let latency = latencyMilliseconds {
            lines.append(String(format: "latency ms: p50 %.3f p99 %.3f max %.3f (%d samples)", latency.p50, latency.p99, latency.max, latency.count))
        }
        if let latency = steadyLatencyMilliseconds {
            lines.append(String(format: "after the warm-up: p50 %.3f p99 %.3f max %.3f (%d samples)", latency.p50, latency.p99, latency.max, latency.count))
        }
        return lines.joined(separator: "\n")
    }
}
