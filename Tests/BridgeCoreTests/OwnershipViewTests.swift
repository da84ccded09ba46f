import BridgeCore
import Testing

@Suite struct OwnershipViewTests {
    typealias Claim = OwnershipView.Claim

    func status(_ instance: String, epoch: Int64, state: String = "online", device: String = "X1") -> [UInt8] {
        Array(#"{"v":1,"device_id":"\#(device)","state":"\#(state)","transport":"tcp","peer":"203.0.113.9:1","protocol":"h02","instance":"\#(instance)","session_epoch":\#(epoch),"connected_at":"2026-11-24T19:55:02.314Z","last_seen":"2026-11-24T19:55:02.314Z","disconnected_at":null}"#.utf8)
    }

    @Test func aStatusPayloadIsReadWithTheCommandJSONReader() throws {
        let parsed = try #require(DeviceStatus(payload: status("edge", epoch: 1_795_550_102_314)))
        #expect(parsed == DeviceStatus(
            deviceID: "X1", online: true, instance: "edge", sessionEpoch: 1_795_550_102_314, transport: .tcp,
            peer: "203.0.113.9:1", protocolName: "h02", connectedAt: 1_795_550_102_314, lastSeen: 1_795_550_102_314))
        let older = Array(String(decoding: status("edge", epoch: 5), as: UTF8.self).replacingOccurrences(of: #""protocol":"h02","#, with: "").utf8)
        #expect(DeviceStatus(payload: older)?.protocolName == nil)
        for bad in ["not json", "{}", #"{"device_id":"X1","state":"online"}"#, "[1]"] {
            #expect(DeviceStatus(payload: Array(bad.utf8)) == nil, "\(bad)")
        }
        let fractionalEpoch = Array(String(decoding: status("edge", epoch: 5), as: UTF8.self)
            .replacingOccurrences(of: #""session_epoch":5"#, with: #""session_epoch":5.5"#).utf8)
        #expect(DeviceStatus(payload: fractionalEpoch) == nil)
    }

    /// Whatever order the statuses of two sessions arrive in (retained and live mixed, two
    /// broker nodes), every instance ends with the newer one, and only a newer session on
    /// another instance asks for a hand-over.
    @Test func racingClaimsConvergeOnTheNewestSession() {
        let claims = [
            Claim(instance: "alpha", epoch: 10, online: true), Claim(instance: "beta", epoch: 11, online: true),
            Claim(instance: "alpha", epoch: 10, online: false),
        ]
        for order in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
            var view = OwnershipView(instance: "gamma")
            view.memberState("alpha", online: true)
            view.memberState("beta", online: true)
            for i in order { view.observe(deviceID: "X1", claims[i]) }
            #expect(view.claims["X1"] == claims[1], "\(order)")
            #expect(view.owner(of: "X1") == "beta")
        }
        var alpha = OwnershipView(instance: "alpha")
        alpha.memberState("beta", online: true)
        #expect(alpha.sessionStarted(deviceID: "X1", now: 10) == 10)
        let newer = alpha.observe(deviceID: "X1", claims[1])
        let again = alpha.observe(deviceID: "X1", claims[1])
        let older = alpha.observe(deviceID: "X1", claims[0])
        #expect(newer, "beta's newer session: hand over")
        #expect(!again, "the same claim again asks nothing")
        #expect(!older, "an older session changes nothing")
        #expect(alpha.owner(of: "X1") == "beta")
        // A new session here is newer than every claim seen, even with a clock behind.
        #expect(alpha.sessionStarted(deviceID: "X1", now: 5) == 12)
        #expect(alpha.owner(of: "X1") == "alpha")
        alpha.sessionEnded(deviceID: "X1", epoch: 12)
        #expect(alpha.owner(of: "X1") == nil)
        #expect(alpha.epoch(of: "X1") == 12)
        alpha.forget(deviceID: "X1")
        #expect(alpha.claims["X1"] == nil)
    }

    /// An instance re-announces itself only when another one newly comes online, so two
    /// instances exchange one announcement each and stop.
    @Test func aNewMemberIsAnsweredOnce() {
        var alpha = OwnershipView(instance: "alpha")
        let answers = [
            alpha.memberState("beta", online: true), alpha.memberState("beta", online: true),
            alpha.memberState("alpha", online: true), alpha.memberState("beta", online: false),
        ]
        #expect(answers == [true, false, false, false], "a newcomer, the same again, its own state, an instance leaving")
        #expect(!alpha.isAlive("beta"))
        let back = alpha.memberState("beta", online: true)
        #expect(back, "back after a restart")
    }
}
