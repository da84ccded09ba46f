import BridgeCore
import TrackerCodec
import Testing

@Suite struct DeviceSessionTests {
    @Test func framesBeforeLoginAreReleasedInOrderBeforeTheLogin() throws {
        var harness = PipelineHarness()
        harness.feed(Frames.live(odometer: "000001"), at: 1_000)
        harness.feed(Frames.heartbeat, at: 2_000)
        harness.feed("*161101144927ZX17x^", at: 3_000)
        harness.feed(Frames.live(odometer: "000002"), at: 4_000)
        #expect(harness.messages.isEmpty)
        harness.feed(Frames.login(), at: 5_000)
        let messages = harness.messages
        #expect(messages.map(\.topic) == [
            "cctr/DEV000000000001/position", "cctr/DEV000000000001/event",
            "cctr/DEV000000000001/position", "cctr/DEV000000000001/position",
        ])
        let payloads = try harness.payloads()
        #expect(payloads.map { $0["received_at"]?.string } == [
            "1970-01-01T00:00:01.000Z", "1970-01-01T00:00:03.000Z", "1970-01-01T00:00:04.000Z", "1970-01-01T00:00:05.000Z",
        ])
        #expect(payloads.map { $0["odometer_m"] } .prefix(1) == [.number(1)])
        #expect(harness.outputs.contains(.loggedIn(deviceID: "DEV000000000001", previous: nil)))
    }

    @Test func heldFramesOverflowDropsTheOldest() throws {
        var harness = PipelineHarness(limits: DeviceSession.Limits(heldFramesMax: 2, heldFramesMaxAge: 600_000))
        for i in 1...4 {
            harness.feed(Frames.live(odometer: String(format6(i))), at: Int64(i) * 1000)
        }
        harness.feed(Frames.login(), at: 10_000)
        let payloads = try harness.payloads()
        #expect(payloads.map { $0["reason"]?.string ?? $0["odometer_m"].map { "\($0)" } } == [
            "held frames overflow", "held frames overflow", "number(3.0)", "number(4.0)", "number(0.0)",
        ])
    }

    @Test func heldFramesAgeOut() throws {
        var harness = PipelineHarness(limits: DeviceSession.Limits(heldFramesMax: 64, heldFramesMaxAge: 10_000))
        harness.feed(Frames.live(), at: 0)
        harness.pipeline.tick(now: 5_000, into: &harness.outputs)
        #expect(harness.messages.isEmpty)
        harness.pipeline.tick(now: 10_001, into: &harness.outputs)
        #expect(try harness.payloads().map { $0["reason"]?.string } == ["held frames overflow"])
    }

    @Test func closeWithoutLoginDeadLettersWhatIsHeld() throws {
        var harness = PipelineHarness()
        harness.feed(Frames.live())
        harness.feed(Frames.nofix)
        harness.close()
        let payloads = try harness.payloads()
        #expect(payloads.map { $0["reason"]?.string } == ["never identified", "never identified"])
        #expect(payloads[0]["raw"]?.string == Frames.live())
        #expect(!harness.outputs.contains { if case .ended = $0 { return true } else { return false } })
    }

    @Test func anotherLoginRebindsTheSession() {
        var harness = PipelineHarness()
        harness.feed(Frames.login("AAA"))
        harness.feed(Frames.login("AAA"))
        harness.feed(Frames.login("BBB"))
        harness.feed(Frames.live())
        harness.close()
        let events = harness.outputs.filter {
            switch $0 {
            case .loggedIn, .ended: return true
            default: return false
            }
        }
        #expect(events == [
            .loggedIn(deviceID: "AAA", previous: nil), .ended(deviceID: "AAA"),
            .loggedIn(deviceID: "BBB", previous: "AAA"), .ended(deviceID: "BBB"),
        ])
        #expect(harness.messages.last?.topic == "cctr/BBB/position")
    }

    @Test func allowlistRefusesUnknownDevices() throws {
        var harness = PipelineHarness(isAllowed: { $0 == "GOOD" })
        harness.feed(Frames.live())
        harness.feed(Frames.login("EVIL"))
        #expect(try harness.payloads().map { $0["reason"]?.string } == ["not in allowlist"])
        harness.feed(Frames.login("GOOD"))
        #expect(harness.messages.map(\.topic).suffix(2) == ["cctr/GOOD/position", "cctr/GOOD/position"])
    }

    @Test func badLoginDoesNotLogIn() throws {
        var harness = PipelineHarness()
        harness.feed("*150817160254UB05bad/id160254A2106.8799S14910.2583E000.0150817158.35^")
        harness.feed("*150817160254UB05GOOD160254A9106.8799S14910.2583E000.0150817158.35^")
        #expect(harness.pipeline.deviceID == nil)
        #expect(try harness.payloads().map { $0["reason"]?.string } == ["bad device id", "coordinate out of range"])
    }

    @Test func refusedLoginIDIsNotAttributedToTheBoundDevice() throws {
        var harness = PipelineHarness()
        harness.feed(Frames.login("AAA"))
        harness.feed(Frames.login("not+valid"))
        let letter = try harness.payloads().last
        #expect(letter?["reason"]?.string == "bad device id")
        #expect(letter?["device_id"]?.isNull == true)
        #expect(harness.pipeline.deviceID == "AAA")
    }

    @Test func udpDatagramEndsOpenFramesButKeepsTheLogin() throws {
        var harness = PipelineHarness(transport: .udp)
        harness.feed(Frames.login())
        harness.pipeline.endOfInput(at: 0, into: &harness.outputs)
        harness.feed("*161101144927UD00144927A12")
        harness.pipeline.endOfInput(at: 0, into: &harness.outputs)
        #expect(harness.pipeline.deviceID == "DEV000000000001")
        let last = try harness.payloads().last
        #expect(last?["reason"]?.string == "truncated frame")
        #expect(last?["device_id"]?.string == "DEV000000000001")
        #expect(last?["transport"]?.string == "udp")
    }
}

private func format6(_ i: Int) -> String {
    let s = String(i)
    return String(repeating: "0", count: 6 - s.count) + s
}
