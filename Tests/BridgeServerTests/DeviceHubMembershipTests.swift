import BridgeCore
import Testing
@testable import BridgeServer

/// Statuses and instance states reach the hub in either order (retained messages per broker
/// node, subscriptions made one after the other): commands kept here for a device must move
/// to its owner once both are known, whichever came last.
@Suite struct DeviceHubMembershipTests {
    static let device = "CC8011400042499"

    static func status(_ state: String, instance: String, epoch: Int64) -> [UInt8] {
        Array("""
            {"v":1,"device_id":"\(device)","state":"\(state)","transport":"tcp","peer":"203.0.113.9:40112",\
            "protocol":"carscop","instance":"\(instance)","session_epoch":\(epoch),\
            "connected_at":"2026-11-24T19:55:02.314Z","last_seen":"2026-11-24T19:58:02.001Z","disconnected_at":\(state == "online" ? "null" : "\"2026-11-24T19:59:00.000Z\"")}
            """.utf8)
    }

    @Test func anInstanceSeenAliveAfterItsClaimTakesTheDevicesCommands() throws {
        let harness = try HubHarness()
        let moves = DeviceHubInterestsTests.Recorder(.claimedElsewhere)
        harness.hub.addObserver(moves)
        harness.hub.statusReceived(deviceID: Self.device, payload: Self.status("online", instance: "alpha", epoch: 5), retained: true, now: 1)
        #expect(moves.kinds.count == 1, "a newer session elsewhere")
        #expect(harness.hub.withOwnership { $0.owner(of: Self.device) } == nil, "alpha is not known to be alive yet")

        #expect(harness.hub.memberState("alpha", online: true, now: 2))
        #expect(moves.kinds.count == 2, "alpha alive: what was parked here for its device goes to it")
        #expect(harness.hub.withOwnership { $0.owner(of: Self.device) } == "alpha")

        #expect(!harness.hub.memberState("alpha", online: true, now: 3))
        #expect(moves.kinds.count == 2, "an instance already alive changes nothing")
    }

    @Test func aDeviceOfflineOnTheNewcomerStaysWhereItsCommandsAre() throws {
        let harness = try HubHarness()
        let moves = DeviceHubInterestsTests.Recorder(.claimedElsewhere)
        harness.hub.addObserver(moves)
        harness.hub.statusReceived(deviceID: Self.device, payload: Self.status("offline", instance: "alpha", epoch: 5), retained: true, now: 1)
        #expect(harness.hub.withOwnership { $0.epoch(of: Self.device) } == 5, "the status was taken")
        #expect(harness.hub.memberState("alpha", online: true, now: 2))
        #expect(moves.kinds.isEmpty)
    }
}
