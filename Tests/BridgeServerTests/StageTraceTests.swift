@testable import BridgeServer
import Foundation
import TestSupport
import Testing

/// `--trace-stages`: the histogram behind each stage, and `/debug/stages` on a live bridge
/// (real mosquitto, a real tracker socket).
@Suite(.serialized, .tearsDownFixtures) struct StageTraceTests {
    @Test func everyBucketHoldsValuesWithinAnEighthOfItsUpperBound() {
        var previous = -1
        for value: UInt64 in Array(0..<5000) + [1 << 20, (1 << 20) + 1, 123_456_789, UInt64.max / 3, UInt64.max] {
            let bucket = LatencyHistogram.bucket(of: value)
            let upper = LatencyHistogram.upperBound(of: bucket)
            #expect(bucket >= previous, "buckets grow with the value: \(value)")
            #expect(upper >= value && Double(upper) <= Double(value) * 1.125 + 1, "\(value) in bucket \(bucket) up to \(upper)")
            if value < 5000 { previous = bucket }
        }
    }

    @Test func quantilesComeFromTheSamples() {
        var histogram = LatencyHistogram()
        #expect(histogram.quantile(0.99) == 0)
        for microseconds in 1...1000 { histogram.add(UInt64(microseconds) * 1000) }
        histogram.add(50_000_000, count: 20)
        #expect(histogram.count == 1020)
        let p50 = histogram.quantile(0.5), p99 = histogram.quantile(0.99), p100 = histogram.quantile(1)
        #expect(p50 >= 505_000 && p50 <= 505_000 * 1.125, "\(p50)")
        #expect(p99 == 50_000_000, "the top 2% are the twenty 50 ms samples: \(p99)")
        #expect(p100 == 50_000_000 && histogram.maximum == 50_000_000)
    }

    @Test func aResetStartsTheNextMeasurement() {
        let trace = StageTrace()
        trace.record(.decode, from: 1000, to: 3000)
        trace.record(.puback, from: 5000, to: 4000)
        let first = trace.summaries(reset: true)
        #expect(first.first { $0.stage == .decode }?.count == 1)
        #expect(first.first { $0.stage == .decode }?.p50 == 2, "2 µs")
        #expect(first.first { $0.stage == .puback }?.max == 0, "a clock that went back counts as 0, not as a wrap")
        #expect(trace.summaries().allSatisfy { $0.count == 0 })
    }

    @Test func aRecordTakenBeforeItsAppendWasNotedStillCounts() {
        let trace = StageTrace()
        trace.taken(sequence: 7, at: 5000)
        trace.appended(sequence: 7, at: 6000)
        trace.appended(sequence: 8, at: 7000)
        trace.taken(sequence: 8, at: 9000)
        trace.taken(sequence: 9, at: 9500)
        let wait = trace.summaries().first { $0.stage == .spoolWait }
        #expect(wait?.count == 2, "sequence 9 was never noted as appended")
        #expect(wait?.max == 2, "2 µs for the record noted first, 0 for the one taken first")
    }

    @Test func aLiveBridgeTimesEveryStage() async throws {
        let fixture = try await BridgeFixture.start { $0.traceStages = true }
        let port = try #require(fixture.bridge.healthPort)
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(CommandIntegrationTests.login)
        for second in 10..<30 {
            try tracker.send("*1708212230\(second)UB00HSO^")
        }
        var counts: [String: Int] = [:]
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let body = try LoopbackHTTP.get(port: port, path: "/debug/stages")
            #expect(body.headers["content-type"] == "application/json")
            let stages = try #require(try JSONValue.parse(body.body)["stages"]?.array)
            counts = Dictionary(uniqueKeysWithValues: stages.compactMap { stage in
                stage["stage"]?.string.map { ($0, Int(stage["count"]?.number ?? 0)) }
            })
            if StageTrace.Stage.allCases.allSatisfy({ (counts[$0.rawValue] ?? 0) > 0 }) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(Set(counts.keys) == Set(StageTrace.Stage.allCases.map(\.rawValue)))
        let document = try LoopbackHTTP.get(port: port, path: "/debug/stages").body
        let validation = try PayloadScripts.validate(documents: [("debug-stages", document)])
        #expect(validation.status == 0, "\(validation.output)\(validation.errors)")
        #expect(counts.values.allSatisfy { $0 > 0 }, "\(counts)")

        let reset = try LoopbackHTTP.get(port: port, path: "/debug/stages?reset=1")
        #expect(reset.status == 200)
        let after = try #require(try JSONValue.parse(LoopbackHTTP.get(port: port, path: "/debug/stages").body)["stages"]?.array)
        #expect(after.allSatisfy { $0["count"]?.number == 0 }, "\(after)")
    }

    @Test func withoutTheOptionTheEndpointSaysHowToTurnItOn() async throws {
        let fixture = try await BridgeFixture.start()
        let response = try LoopbackHTTP.get(port: try #require(fixture.bridge.healthPort), path: "/debug/stages")
        #expect(response.status == 404)
        #expect(response.text.contains("--trace-stages"))
    }
}
