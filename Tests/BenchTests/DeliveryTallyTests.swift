import BridgeCore
import Testing

@testable import cctr_bench

@Suite struct DeliveryTallyTests {
    private func fields(_ id: UInt64, _ device: String, _ sequence: UInt64?) -> PayloadFields {
        PayloadFields(id: id, deviceID: device, sequence: sequence)
    }

    @Test func countsDuplicatesReorderingAndGapsPerDevice() {
        var tally = DeliveryTally()
        tally.record(fields(1, "A", 1), at: 10)
        tally.record(fields(2, "A", 3), at: 20)
        tally.record(fields(3, "A", 2), at: 30)
        tally.record(fields(2, "A", 3), at: 40)
        tally.record(fields(4, "B", 5), at: 50)
        tally.record(fields(5, "B", 7), at: 60)
        tally.record(fields(6, "B", nil), at: 70)
        #expect(tally.received == 7)
        #expect(tally.unique == 6)
        #expect(tally.duplicates == 1)
        #expect(tally.reordered == 1)
        #expect(tally.withoutSequence == 1)
        #expect(tally.gaps == 1)
        #expect(tally.deviceCount == 2)
        #expect(tally.receipt(deviceID: "A", sequence: 3) == 20)
        #expect(tally.receipt(deviceID: "B", sequence: 6) == nil)
    }

    @Test func reportJoinsTheSendLogForLossAndLatency() {
        var tally = DeliveryTally()
        tally.record(fields(1, "A", 1), at: 2_000_000)
        tally.record(fields(2, "A", 2), at: 5_000_000)
        let log = SendLogReader.parse("A 1 1000000\nA 2 1000000\nA 3 1000000\nA 4 12")
        let report = DeliveryReport(tally: tally, sendLog: log)
        #expect(report.sent == 4)
        #expect(report.lost == 2)
        #expect(report.latencyMilliseconds == LatencySummary(nanoseconds: [1_000_000, 4_000_000]))
        #expect(report.latencyMilliseconds?.max == 4)
    }

    @Test func percentilesUseNearestRank() {
        let summary = LatencySummary(nanoseconds: (1...100).map { Int64($0) * 1_000_000 }.shuffled())
        #expect(summary.p50 == 50)
        #expect(summary.p99 == 99)
        #expect(summary.max == 100)
        #expect(summary.count == 100)
    }

    @Test func sendLogSkipsPartialLines() {
        let entries = SendLogReader.parse("DEV1 7 123\nDEV1 8\nDEV2 x 5\n")
        #expect(entries == [SendLogReader.Entry(deviceID: "DEV1", sequence: 7, unixNanoseconds: 123)])
    }
}

@Suite struct PayloadFieldsTests {
    @Test func readsIdDeviceAndSequenceFromTheBridgesOwnPayloads() throws {
        let payloads = try PositionPayloads(count: 6, devices: 2, base: "cctr")
        #expect(payloads.messages.map(\.sequence) == [1, 1, 2, 2, 3, 3])
        #expect(payloads.messages[0].topic == "cctr/BENCH0000000000/position")
        var ids = Set<UInt64>()
        for message in payloads.messages {
            let fields = try #require(PayloadFields(message.payload))
            #expect(fields.deviceID == message.deviceID)
            #expect(fields.sequence == message.sequence)
            ids.insert(fields.id)
        }
        #expect(ids.count == 6)
    }

    @Test func noTailMeansNoSequenceAndNonPayloadsAreRejected() {
        let noFix = Array(#"{"v":1,"id":"00000000000000ff","device_id":"X1","odometer_m":null}"#.utf8)
        #expect(PayloadFields(noFix) == PayloadFields(id: 255, deviceID: "X1", sequence: nil))
        #expect(PayloadFields(Array(#"{"v":1,"state":"online"}"#.utf8)) == nil)
        #expect(PayloadFields(Array(#"{"id":"c-42"}"#.utf8)) == nil)
    }
}
