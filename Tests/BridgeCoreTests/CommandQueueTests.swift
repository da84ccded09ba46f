import BridgeCore
import TrackerCodec
import Testing

@Suite struct CommandQueueTests {
    typealias F = CommandFixtures
    static let t0 = F.t0

    func queue(tz: Int = 0) -> CommandQueue {
        CommandQueue(deviceID: F.device, instance: "main", timeZoneOffsetSeconds: tz)
    }

    func results(_ actions: [CommandQueue.Action]) -> [CommandResult] {
        actions.compactMap { action -> CommandResult? in
            if case .publishResult(let r) = action { return r }
            return nil
        }
    }

    func sends(_ actions: [CommandQueue.Action]) -> [(String, String)] {
        actions.compactMap { action -> (String, String)? in
            if case .send(let id, let frame) = action { return (id, String(decoding: frame, as: UTF8.self)) }
            return nil
        }
    }

    func statuses(_ actions: [CommandQueue.Action]) -> [String] {
        results(actions).map { "\($0.id ?? "nil"):\($0.status.rawValue)\($0.isFinal ? "!" : "")" }
    }

    @Test func queuedThenSentThenAcked() throws {
        var q = queue()
        let r = try F.request(#"{"id":"c-1","type":"positionSingle"}"#)
        let submitted = q.submit(r, now: Self.t0, deviceReachable: false)
        #expect(statuses(submitted) == ["c-1:queued"])
        #expect(results(submitted).first?.frame == nil)

        let uplink = q.deviceUplink(now: 1_439_827_374_000)
        #expect(sends(uplink).map(\.0) == ["c-1"])
        #expect(sends(uplink).map(\.1) == ["*150817160254AP00^"])
        #expect(results(uplink).isEmpty)

        let written = q.writeResult(commandID: "c-1", .written, now: Self.t0 + 10)
        #expect(statuses(written) == ["c-1:sent"])
        #expect(results(written).first?.frame == "*150817160254AP00^")

        let position = "*150817160300UD00160300A2106.8799S14910.2583E000.0150817158.3511111111L000000^"
        // A position answers nothing; only a frame its protocol calls a reply is "unmatched".
        #expect(q.deviceFrame(word: "UD00", body: "x", raw: position, now: Self.t0 + 20) == [])
        #expect(q.deviceFrame(word: "V4", body: "S71,DONE", raw: "*HQ,1,V4,S71,DONE#", isReply: true, now: Self.t0 + 21) == [.unmatchedReply])
        let reply = "*150817160301UB04123456789160301A2106.8799S14910.2583E000.0150817158.35^"
        let acked = q.deviceFrame(word: "UB04", body: "123456789...", raw: reply, now: Self.t0 + 30)
        #expect(statuses(acked) == ["c-1:acked!"])
        #expect(results(acked).first?.deviceReply == reply)
        #expect(results(acked).first?.frame == "*150817160254AP00^")
        #expect(results(acked).first?.at == Self.t0 + 30)
        // Nothing waits any more: frames are not replies.
        #expect(q.deviceFrame(word: "UB04", body: "", raw: reply, now: Self.t0 + 40) == [])
    }

    @Test func sentIsFinalWhenTheTemplateExpectsNoReply() throws {
        var q = queue()
        let r = try F.request(#"{"id":"c-1","type":"custom","params":{"data":"KEEPONLINE*123456"}}"#)
        let submitted = q.submit(r, now: Self.t0, deviceReachable: true)
        #expect(statuses(submitted).isEmpty)
        #expect(sends(submitted).map(\.1) == ["KEEPONLINE*123456"])
        #expect(statuses(q.writeResult(commandID: "c-1", .written, now: Self.t0 + 1)) == ["c-1:sent!"])
        #expect(q.tick(now: Self.t0 + 300_000).isEmpty)
    }

    @Test func writeFailureFails() throws {
        var q = queue()
        _ = q.submit(try F.request(#"{"id":"c-1","type":"positionSingle"}"#), now: Self.t0, deviceReachable: true)
        let failed = q.writeResult(commandID: "c-1", .failed(reason: "connection reset"), now: Self.t0 + 1)
        #expect(statuses(failed) == ["c-1:failed!"])
        #expect(results(failed).first?.reason == "write failed: connection reset")
        #expect(q.deviceGone(now: Self.t0 + 2).isEmpty)
    }

    @Test func deviceGoneFailsInFlightButKeepsQueued() throws {
        var q = queue()
        _ = q.submit(try F.request(#"{"id":"c-1","type":"positionSingle"}"#), now: Self.t0, deviceReachable: true)
        _ = q.writeResult(commandID: "c-1", .written, now: Self.t0 + 1)
        #expect(statuses(q.submit(try F.request(#"{"id":"c-2","type":"rebootDevice"}"#), now: Self.t0 + 2, deviceReachable: true)) == ["c-2:queued"])
        let gone = q.deviceGone(now: Self.t0 + 3)
        #expect(statuses(gone) == ["c-1:failed!"])
        #expect(results(gone).first?.reason == "device gone before a matching reply")
        #expect(results(gone).first?.frame != nil)
        // The late write completion of a finished command changes nothing.
        #expect(q.writeResult(commandID: "c-1", .written, now: Self.t0 + 4).isEmpty)
        // The queued command goes out on the next session's first uplink.
        #expect(sends(q.deviceUplink(now: Self.t0 + 5)).map(\.1) == ["RESET*123456"])
    }

    @Test func deviceGoneDuringTheWriteFails() throws {
        var q = queue()
        _ = q.submit(try F.request(#"{"id":"c-1","type":"rebootDevice"}"#), now: Self.t0, deviceReachable: true)
        let gone = q.deviceGone(now: Self.t0 + 1)
        #expect(statuses(gone) == ["c-1:failed!"])
        #expect(results(gone).first?.frame == nil)
    }

    @Test func queuedCommandsExpire() throws {
        var q = queue()
        _ = q.submit(try F.request(#"{"id":"c-1","type":"positionSingle","ttl_s":60}"#), now: Self.t0, deviceReachable: false)
        #expect(q.nextDeadline == Self.t0 + 60_000)
        #expect(q.tick(now: Self.t0 + 59_999).isEmpty)
        let expired = q.tick(now: Self.t0 + 60_000)
        #expect(statuses(expired) == ["c-1:expired!"])
        #expect(results(expired).first?.reason == "ttl_s 60 passed while the device was offline or busy")
        #expect(q.deviceUplink(now: Self.t0 + 60_001).isEmpty)
        #expect(q.isEmpty)
    }

    @Test func anExpiredCommandIsNeverWrittenEvenWithoutATick() throws {
        var q = queue()
        _ = q.submit(try F.request(#"{"id":"c-1","type":"positionSingle","ttl_s":60}"#), now: Self.t0, deviceReachable: false)
        let late = q.deviceUplink(now: Self.t0 + 60_000)
        #expect(statuses(late) == ["c-1:expired!"])
        #expect(sends(late).isEmpty)
        // The same id submitted again runs once, not twice.
        let again = q.submit(try F.request(#"{"id":"c-1","type":"positionSingle","ttl_s":60}"#), now: Self.t0 + 60_001, deviceReachable: true)
        #expect(sends(again).map(\.0) == ["c-1"])
        #expect(q.queuedCount == 0)
        #expect(q.deviceUplink(now: Self.t0 + 60_002).isEmpty)
    }

    @Test func inFlightCommandsExpireWithoutAReply() throws {
        var q = queue()
        _ = q.submit(try F.request(#"{"id":"c-1","type":"positionSingle","ttl_s":60}"#), now: Self.t0, deviceReachable: true)
        _ = q.writeResult(commandID: "c-1", .written, now: Self.t0 + 1)
        let expired = q.tick(now: Self.t0 + 60_000)
        #expect(statuses(expired) == ["c-1:expired!"])
        #expect(results(expired).first?.reason == "ttl_s 60 passed without a matching reply")
        #expect(results(expired).first?.frame != nil)
        #expect(q.deviceFrame(word: "UB04", body: "", raw: "*x^", now: Self.t0 + 60_001).isEmpty)
    }

    @Test func queuedCommandsKeepTheirOrderAndGoOneAtATime() throws {
        var q = queue()
        for (n, json) in [
            #"{"id":"c-1","type":"positionSingle"}"#,
            #"{"id":"c-2","type":"rebootDevice"}"#,
            #"{"id":"c-3","type":"positionPeriodic","params":{"interval_s":60}}"#,
        ].enumerated() {
            #expect(statuses(q.submit(try F.request(json), now: Self.t0 + Int64(n), deviceReachable: false)) == ["c-\(n + 1):queued"])
        }
        var order: [String] = []
        var actions = q.deviceUplink(now: Self.t0 + 10)
        #expect(sends(actions).count == 1)
        order += sends(actions).map(\.0)
        actions = q.writeResult(commandID: "c-1", .written, now: Self.t0 + 11)
        #expect(sends(actions).isEmpty)  // c-1 awaits its reply
        #expect(q.deviceUplink(now: Self.t0 + 12).isEmpty)
        actions = q.deviceFrame(word: "UB04", body: "", raw: "*r1^", now: Self.t0 + 13)
        #expect(statuses(actions) == ["c-1:acked!"])
        order += sends(actions).map(\.0)
        actions = q.writeResult(commandID: "c-2", .written, now: Self.t0 + 14)
        #expect(statuses(actions) == ["c-2:sent!"])  // no reply expected: the next goes out at once
        order += sends(actions).map(\.0)
        #expect(order == ["c-1", "c-2", "c-3"])
        #expect(sends(actions).map(\.1) == ["*261124195502AR00003C0000^"])
        actions = q.writeResult(commandID: "c-3", .written, now: Self.t0 + 15)
        #expect(statuses(actions) == ["c-3:sent"])
        #expect(q.deviceFrame(word: "BS08", body: "0000", raw: "*wrong^", now: Self.t0 + 16) == [])
        #expect(statuses(q.deviceFrame(word: "BS08", body: "003C0000", raw: "*right^", now: Self.t0 + 17)) == ["c-3:acked!"])
    }

    @Test func templatesMayAllowSeveralInFlight() throws {
        var q = queue()
        let stop1 = try F.request(#"{"id":"s-1","type":"engineStop"}"#)
        let stop2 = try F.request(#"{"id":"s-2","type":"engineStop"}"#)
        let stop3 = try F.request(#"{"id":"s-3","type":"engineStop"}"#)
        #expect(sends(q.submit(stop1, now: Self.t0, deviceReachable: true)).map(\.0) == ["s-1"])
        #expect(sends(q.submit(stop2, now: Self.t0 + 1, deviceReachable: true)).map(\.0) == ["s-2"])
        #expect(statuses(q.submit(stop3, now: Self.t0 + 2, deviceReachable: true)) == ["s-3:queued"])
        // A command whose template allows one in flight waits until the device is free.
        let single = q.submit(try F.request(#"{"id":"p-1","type":"positionSingle"}"#), now: Self.t0 + 3, deviceReachable: true)
        #expect(statuses(single) == ["p-1:queued"])
        #expect(statuses(q.writeResult(commandID: "s-1", .written, now: Self.t0 + 4)) == ["s-1:sent"])
        let ack = q.deviceFrame(word: "BV01", body: "", raw: "*a^", now: Self.t0 + 4)
        #expect(statuses(ack) == ["s-1:acked!"])
        #expect(sends(ack).map(\.0) == ["s-3"])
    }

    @Test func aReplyBeforeTheWriteCompletionStillGivesSentThenAcked() throws {
        var q = queue()
        _ = q.submit(try F.request(#"{"id":"c-1","type":"positionSingle"}"#), now: Self.t0, deviceReachable: true)
        let acked = q.deviceFrame(word: "UB04", body: "", raw: "*r^", now: Self.t0 + 1)
        #expect(statuses(acked) == ["c-1:sent", "c-1:acked!"])
        #expect(q.writeResult(commandID: "c-1", .written, now: Self.t0 + 2).isEmpty)
    }

    @Test func duplicateIDWithinTTLRepublishesTheLatestResult() throws {
        var q = queue()
        let r = try F.request(#"{"id":"c-1","type":"custom","params":{"data":"X"},"ttl_s":60}"#)
        let queued = results(q.submit(r, now: Self.t0, deviceReachable: false))
        #expect(results(q.submit(r, now: Self.t0 + 5, deviceReachable: false)) == queued)
        _ = q.deviceUplink(now: Self.t0 + 10)
        let sent = results(q.writeResult(commandID: "c-1", .written, now: Self.t0 + 11))
        #expect(sent.map(\.status) == [.sent])
        // Same id again: the same final result, unchanged (same `at`), and no second send.
        let again = q.submit(r, now: Self.t0 + 59_999, deviceReachable: true)
        #expect(results(again) == sent)
        #expect(sends(again).isEmpty)
        // After ttl_s the id is forgotten and the command runs again.
        #expect(q.tick(now: Self.t0 + 60_000).isEmpty)
        let rerun = q.submit(r, now: Self.t0 + 60_001, deviceReachable: true)
        #expect(sends(rerun).map(\.0) == ["c-1"])
    }

    @Test func duplicateIDAfterTTLRunsAgainEvenWithoutATick() throws {
        var q = queue()
        let r = try F.request(#"{"id":"c-1","type":"rebootDevice","ttl_s":10}"#)
        _ = q.submit(r, now: Self.t0, deviceReachable: true)
        _ = q.writeResult(commandID: "c-1", .written, now: Self.t0 + 1)
        #expect(sends(q.submit(r, now: Self.t0 + 10_000, deviceReachable: true)).map(\.0) == ["c-1"])
    }

    @Test func exactlyOneFinalResultPerExecution() throws {
        // Drive every ending and check no command ever gets a second final result.
        var q = queue()
        var finals: [String: Int] = [:]
        func record(_ actions: [CommandQueue.Action]) {
            for r in results(actions) where r.isFinal { finals[r.id!, default: 0] += 1 }
        }
        record(q.submit(try F.request(#"{"id":"a","type":"positionSingle","ttl_s":5}"#), now: Self.t0, deviceReachable: true))
        record(q.submit(try F.request(#"{"id":"b","type":"rebootDevice","ttl_s":5}"#), now: Self.t0, deviceReachable: true))
        record(q.writeResult(commandID: "a", .written, now: Self.t0 + 1))
        record(q.deviceFrame(word: "UB04", body: "", raw: "*r^", now: Self.t0 + 2))
        record(q.deviceFrame(word: "UB04", body: "", raw: "*r^", now: Self.t0 + 3))
        record(q.writeResult(commandID: "b", .written, now: Self.t0 + 4))
        record(q.writeResult(commandID: "b", .failed(reason: "late"), now: Self.t0 + 5))
        record(q.deviceGone(now: Self.t0 + 6))
        record(q.tick(now: Self.t0 + 10_000))
        #expect(finals == ["a": 1, "b": 1])
    }

    @Test func aFullQueueRejects() throws {
        var q = CommandQueue(deviceID: F.device, instance: "main", maxQueued: 2)
        for n in 1...2 {
            _ = q.submit(try F.request(#"{"id":"c-\#(n)","type":"rebootDevice"}"#), now: Self.t0, deviceReachable: false)
        }
        let third = q.submit(try F.request(#"{"id":"c-3","type":"rebootDevice"}"#), now: Self.t0, deviceReachable: false)
        #expect(statuses(third) == ["c-3:rejected!"])
        #expect(q.queuedCount == 2)
    }

    @Test func noteBecomesTheReasonOfResultsWithoutOne() throws {
        var q = queue()
        var r = try F.request(#"{"id":"c-1","type":"rebootDevice"}"#)
        r.note = "response topic $SYS/x refused: it starts with $"
        let queued = results(q.submit(r, now: Self.t0, deviceReachable: false))
        #expect(queued.first?.reason == r.note)
    }

    @Test func udpReplyWindow() {
        let window = ReplyWindow(seconds: 60)
        #expect(window.isOpen(lastDatagramAt: nil, now: Self.t0) == false)
        #expect(window.isOpen(lastDatagramAt: Self.t0, now: Self.t0 + 60_000))
        #expect(window.isOpen(lastDatagramAt: Self.t0, now: Self.t0 + 60_001) == false)
    }
}
