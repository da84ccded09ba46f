import BridgeCore
import Testing

/// `DeviceDirectory` with the fleet's ownership view: epochs rise across instances, and a
/// session superseded on another instance no longer speaks for the device.
@Suite struct DeviceDirectoryTests {
    let topics = try! TopicLayout(base: "cctr", instance: "alpha")

    func published(_ actions: [DeviceDirectory.Action]) -> [String] {
        actions.compactMap { action -> String? in
            guard case .publish(let message) = action else { return nil }
            return "\(message.topic) \(String(decoding: message.payload, as: UTF8.self))"
        }
    }

    func status(_ instance: String, epoch: Int64, online: Bool) -> DeviceStatus {
        DeviceStatus(
            deviceID: "X1", online: online, instance: instance, sessionEpoch: epoch, transport: .tcp, peer: "203.0.113.9:1",
            connectedAt: epoch, lastSeen: epoch)
    }

    /// Traffic refreshes `last_seen` at every frame and publishes it at most once per status
    /// interval; another session's traffic changes nothing; the final status carries the last
    /// frame's time.
    @Test func trafficRefreshesLastSeenOncePerInterval() {
        var directory = DeviceDirectory(topics: topics, statusInterval: 1_000)
        var actions: [DeviceDirectory.Action] = []
        directory.loggedIn("X1", session: 1, transport: .tcp, peer: "p", protocolName: "carscop", now: 0, into: &actions)
        actions.removeAll()
        directory.seen("X1", session: 1, now: 500, into: &actions)
        #expect(actions.isEmpty, "within the interval")
        directory.seen("X1", session: 1, now: 1_200, into: &actions)
        let refresh = published(actions)
        #expect(refresh.count == 1)
        #expect(refresh.first?.hasPrefix("cctr/X1/status ") == true)
        #expect(refresh.first?.contains(#""last_seen":"1970-01-01T00:00:01.200Z""#) == true, "\(refresh)")
        actions.removeAll()
        directory.seen("X1", session: 2, now: 5_000, into: &actions)
        directory.seen("X1", session: 1, now: 2_100, into: &actions)
        #expect(actions.isEmpty, "another session's traffic, then 900 ms since the refresh")
        directory.seen("X1", session: 1, now: 2_150, into: &actions)
        #expect(directory.ended("X1", session: 1, now: 3_000, into: &actions))
        let final = published(actions).first { $0.hasPrefix("cctr/X1/status ") }
        #expect(final?.contains(#""last_seen":"1970-01-01T00:00:02.150Z""#) == true, "\(String(describing: final))")
        #expect(final?.contains(#""state":"offline""#) == true)
    }

    /// The device logged in on beta while alpha's connection is still open: alpha hands over
    /// (statusSeen says so), and when its old connection ends, or at its next refresh or
    /// reconnect, it publishes nothing for the device.
    @Test func aSessionSupersededElsewhereFallsSilent() {
        var directory = DeviceDirectory(topics: topics, statusInterval: 1_000)
        var actions: [DeviceDirectory.Action] = []
        directory.loggedIn("X1", session: 1, transport: .tcp, peer: "p", protocolName: "h02", now: 100, into: &actions)
        #expect(directory.ownership.owner(of: "X1") == "alpha")
        actions.removeAll()
        directory.memberState("beta", online: true)
        let movedAway = directory.statusSeen(status("beta", epoch: 200, online: true), retained: false, now: 200, into: &actions)
        #expect(movedAway)
        #expect(directory.ownership.owner(of: "X1") == "beta")
        directory.seen("X1", session: 1, now: 5_000, into: &actions)
        #expect(directory.republish().isEmpty)
        #expect(directory.ended("X1", session: 1, now: 6_000, into: &actions))
        #expect(actions.isEmpty)
        // Its next session is newer than beta's, whatever its clock says.
        directory.loggedIn("X1", session: 2, transport: .tcp, peer: "p", protocolName: "h02", now: 150, into: &actions)
        #expect(published(actions).contains { $0.hasPrefix("cctr/X1/status ") && $0.contains(#""session_epoch":201,"#) })
        #expect(directory.ownership.owner(of: "X1") == "alpha")
    }

    /// A retained `online` of this instance that no session of its holds was left by a crash:
    /// it is published `offline`, and the view no longer counts the device as held here.
    @Test func aCrashLeftStatusIsReconciled() {
        var directory = DeviceDirectory(topics: topics)
        var actions: [DeviceDirectory.Action] = []
        #expect(!directory.statusSeen(status("alpha", epoch: 50, online: true), retained: true, now: 60, into: &actions))
        #expect(published(actions).map { $0.split(separator: " ")[0] } == ["cctr/X1/availability", "cctr/X1/status"])
        #expect(published(actions)[1].contains(#""state":"offline""#))
        #expect(directory.ownership.owner(of: "X1") == nil)
        actions.removeAll()
        _ = directory.statusSeen(status("alpha", epoch: 50, online: true), retained: false, now: 60, into: &actions)
        #expect(actions.isEmpty, "a live status is never reconciled")
    }
}
