import BridgeCore
import Testing
@testable import BridgeServer

@Suite struct DeadLetterLimitTests {
    /// Two event loops stamp their dead letters just before and just after a second's
    /// boundary and take the lock in alternation: the window must not reopen each time the
    /// times cross back (the old window granted a fresh 5 at every crossing: 449 a second
    /// went out from one address).
    @Test func timesStraddlingASecondAdmitOneWindowPerSecond() {
        var window = RateWindow(perSecond: 5)
        var admitted = 0
        for index in 0..<200 where window.admit("203.0.113.9", now: index.isMultiple(of: 2) ? 41_999 : 42_000) {
            admitted += 1
        }
        // One in second 41; the first 42_000 stamp moves the window to second 42 for good,
        // and the late 41_999 stamps count against it: 5 more, not 5 at every crossing.
        #expect(admitted == 6)
        let lateInSecond42 = window.admit("203.0.113.9", now: 42_999)
        let firstInSecond43 = window.admit("203.0.113.9", now: 43_000)
        #expect(!lateInSecond42 && firstInSecond43)
    }

    @Test func eachAddressHasItsOwnWindow() {
        var window = RateWindow(perSecond: 5)
        let first = (0..<8).filter { _ in window.admit("198.51.100.1", now: 7_000) }.count
        let second = (0..<8).filter { _ in window.admit("198.51.100.2", now: 7_000) }.count
        #expect(first == 5 && second == 5)
    }

    @Test func negativeTimesFloorToTheirSecond() {
        var window = RateWindow(perSecond: 1)
        let admitted = [-1, -999, 0].map { window.admit("a", now: $0) }
        #expect(admitted == [true, false, true])
    }

    /// 60 addresses, 3 dead letters each, within one second: every address is under its own
    /// limit, but only 50 pass in total; the next second opens again.
    @Test func theGlobalCapBoundsManyAddresses() {
        var limit = DeadLetterLimit(perAddress: 5, total: 50)
        var admitted = 0
        for round in 0..<3 {
            for address in 0..<60 where limit.admit(ip: "10.0.0.\(address)", now: 5_000 + Int64(round)) {
                admitted += 1
            }
        }
        let nextSecond = limit.admit(ip: "10.0.0.1", now: 6_000)
        #expect(admitted == 50 && nextSecond)
    }

    /// A dead letter refused by its address's limit leaves the global budget to the others.
    @Test func refusalsPerAddressDoNotSpendTheGlobalCap() {
        var limit = DeadLetterLimit(perAddress: 5, total: 10)
        let noisy = (0..<100).filter { _ in limit.admit(ip: "192.0.2.66", now: 1_000) }.count
        let quiet = (0..<5).filter { _ in limit.admit(ip: "192.0.2.7", now: 1_000) }.count
        #expect(noisy == 5 && quiet == 5)
    }

    /// Through the hub: garbage from 60 addresses in one second publishes 50 dead letters and
    /// counts the other 10 as `rate limited`.
    @Test func theHubPublishesAtMostTheGlobalCapAndCountsTheRest() throws {
        let harness = try HubHarness()
        for address in 0..<60 {
            let ip = "10.1.0.\(address)"
            var pipeline = ConnectionPipeline(
                context: harness.pipelineContext, source: PayloadSource(transport: .tcp, peer: "\(ip):4000", instance: "main"))
            var outputs: [ConnectionPipeline.Output] = []
            pipeline.receive(Array("garbage\n".utf8), at: 9_000, into: &outputs)
            pipeline.close(at: 9_500, into: &outputs)
            let session = harness.hub.register(DeviceHub.SessionHandle(transport: .tcp, peer: "\(ip):4000", close: {}, write: { _, done in done(true) }))
            harness.hub.handle(outputs, session: session, source: pipeline.source, ip: ip, now: 9_500)
        }
        #expect(harness.topics(endingWith: "/deadletter").count == 50)
        #expect(harness.metric(#"cctr_deadletters_total{reason="rate limited"}"#) == 10)
        #expect(harness.metric(#"cctr_deadletters_total{reason="garbage"}"#) == 60)
    }
}
