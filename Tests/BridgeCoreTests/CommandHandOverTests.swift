import BridgeCore
import TrackerCodec
import Testing

/// Queued commands following their device from one instance's `CommandQueue` to another's.
@Suite struct CommandHandOverTests {
    typealias F = CommandFixtures
    let helper = CommandQueueTests()

    func queue(_ instance: String) -> CommandQueue {
        CommandQueue(deviceID: F.device, instance: instance)
    }

    /// Alpha holds a command in flight and two queued behind it; the device's newer session is
    /// on beta: the queued two leave in order with what is left of their ttl, the one in
    /// flight stays (its reply can only come from the old session), and beta sends them
    /// without publishing a second `queued`.
    @Test func queuedCommandsFollowTheDeviceInOrder() throws {
        var alpha = queue("alpha")
        _ = alpha.submit(try F.request(#"{"id":"c-1","type":"positionSingle"}"#), now: F.t0, deviceReachable: true)
        _ = alpha.writeResult(commandID: "c-1", .written, now: F.t0 + 1)
        let queued = alpha.submit(try F.request(#"{"id":"c-2","type":"rebootDevice","ttl_s":60}"#), now: F.t0 + 2, deviceReachable: true)
        #expect(helper.statuses(queued) == ["c-2:queued"])
        _ = alpha.submit(try F.request(#"{"id":"c-3","type":"custom","params":{"data":"X"}}"#), now: F.t0 + 3, deviceReachable: true)

        let (handOvers, actions) = alpha.handOver(now: F.t0 + 20_500)
        #expect(actions.isEmpty)
        #expect(handOvers.map(\.request.id) == ["c-2", "c-3"])
        #expect(handOvers.map(\.remainingSeconds) == [40, 280])
        #expect(alpha.queuedCount == 0)
        #expect(alpha.knows("c-1") && !alpha.knows("c-2"))

        var beta = queue("beta")
        var sent: [(String, String)] = []
        var published: [String] = []
        for handOver in handOvers {
            let adopted = beta.adopt(try handed(handOver), now: F.t0 + 20_600, deviceReachable: true)
            sent += helper.sends(adopted)
            published += helper.statuses(adopted)
            for (id, _) in helper.sends(adopted) {
                published += helper.statuses(beta.writeResult(commandID: id, .written, now: F.t0 + 20_700))
            }
        }
        #expect(sent.map(\.0) == ["c-2", "c-3"])
        #expect(published == ["c-2:sent!", "c-3:sent!"])
    }

    /// A hand-over of a command the receiver already has or finished (it executed it while
    /// the sender, not yet aware of the new session, parked it too) is merged away: no second
    /// execution, no second result. Nor does a repeated hand-over add one.
    @Test func aLateOrRepeatedHandOverIsIgnored() throws {
        var beta = queue("beta")
        let request = try F.request(#"{"id":"c-9","type":"custom","params":{"data":"X"}}"#)
        _ = beta.submit(request, now: F.t0, deviceReachable: true)
        _ = beta.writeResult(commandID: "c-9", .written, now: F.t0 + 1)
        let late = beta.adopt(request, now: F.t0 + 2, deviceReachable: true)
        #expect(late.isEmpty)

        var gamma = queue("gamma")
        let parked = gamma.adopt(request, now: F.t0, deviceReachable: false)
        let repeated = gamma.adopt(request, now: F.t0 + 1, deviceReachable: false)
        #expect(parked.isEmpty, "parked silently")
        #expect(repeated.isEmpty)
        #expect(gamma.queuedCount == 1)
        // A duplicate from the controller gets the latest result, which is `queued`.
        let duplicate = gamma.submit(request, now: F.t0 + 2, deviceReachable: false)
        #expect(helper.statuses(duplicate) == ["c-9:queued"])
    }

    /// A handed-over command keeps its deadline: it expires when its original ttl ends.
    @Test func aHandedOverCommandExpiresOnTime() throws {
        var alpha = queue("alpha")
        _ = alpha.submit(try F.request(#"{"id":"e-1","type":"custom","params":{"data":"X"},"ttl_s":10}"#), now: F.t0, deviceReachable: false)
        let (handOvers, _) = alpha.handOver(now: F.t0 + 4_000)
        #expect(handOvers.map(\.remainingSeconds) == [6])
        var beta = queue("beta")
        _ = beta.adopt(try handed(handOvers[0]), now: F.t0 + 4_000, deviceReachable: false)
        let early = beta.tick(now: F.t0 + 9_999)
        let due = beta.tick(now: F.t0 + 10_000)
        #expect(early.isEmpty)
        #expect(helper.statuses(due) == ["e-1:expired!"])
    }

    /// The request as the receiver parses it from the hand-over's forward payload.
    func handed(_ handOver: CommandQueue.HandOver) throws -> CommandRequest {
        let payload = CommandRouting.forwardPayload(
            handOver.request, from: "alpha", topic: "cctr/\(F.device)/cmd", handOverTTL: handOver.remainingSeconds)
        let parsed = try #require(ForwardedCommand.parse(payload, base: "cctr", templates: F.templates, policy: F.policy, assignID: { "never" }))
        guard case .accepted(let request) = parsed.command, parsed.isHandOver else { throw CancellationError() }
        return request
    }
}
