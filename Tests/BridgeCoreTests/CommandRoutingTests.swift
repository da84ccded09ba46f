import BridgeCore
import TrackerCodec
import Testing

@Suite struct CommandRoutingTests {
    typealias F = CommandFixtures

    /// A view of instance `me` that knows `members` are alive.
    func view(_ me: String, members: [String] = []) -> OwnershipView {
        var view = OwnershipView(instance: me)
        for member in members { view.memberState(member, online: true) }
        return view
    }

    @Test func theHolderOfTheSessionExecutes() {
        var alpha = view("alpha", members: ["beta"])
        _ = alpha.sessionStarted(deviceID: "X1", now: 100)
        for mode in [RoutingMode.shared, .broadcast] {
            #expect(CommandRouting.decide(deviceID: "X1", view: alpha, mode: mode) == .execute)
        }
    }

    /// Another living instance holds the session: broadcast leaves it alone (that instance
    /// got the command too); shared forwards it there.
    @Test func anotherOwnerGetsItByBroadcastOrForward() {
        var beta = view("beta", members: ["alpha"])
        beta.observe(deviceID: "X1", .init(instance: "alpha", epoch: 100, online: true))
        #expect(CommandRouting.decide(deviceID: "X1", view: beta, mode: .broadcast) == .ignore(handledBy: "alpha"))
        #expect(CommandRouting.decide(deviceID: "X1", view: beta, mode: .shared) == .forward(toInstance: "alpha"))
    }

    /// Nobody holds the session: shared parks it where it arrived (only there); broadcast
    /// parks it on exactly one instance, the same one whichever instance decides.
    @Test func nobodysDeviceIsParkedByExactlyOneCustodian() {
        let names = ["alpha", "beta", "gamma"]
        for device in (1...50).map({ "D\($0)" }) {
            let parked = names.filter { me in
                let v = view(me, members: names.filter { $0 != me })
                return CommandRouting.decide(deviceID: device, view: v, mode: .broadcast) == .park
            }
            #expect(parked.count == 1, "\(device): \(parked)")
            #expect(CommandRouting.decide(deviceID: device, view: view("alpha", members: ["beta"]), mode: .shared) == .park)
        }
        // Rendezvous spreads devices over the instances.
        let custodians = Set((1...50).map { view("alpha", members: ["beta", "gamma"]).custodian(of: "D\($0)") })
        #expect(custodians == Set(names))
    }

    /// The last owner keeps a device's commands while it lives (the device likely comes back
    /// to it); once it is gone, the rendezvous choice among the living does.
    @Test func theLastOwnerIsTheCustodianWhileItLives() {
        var gamma = view("gamma", members: ["alpha", "beta"])
        let device = (1...50).map { "D\($0)" }.first { OwnershipView.rendezvous(key: $0, among: ["alpha", "beta", "gamma"]) != "beta" }!
        gamma.observe(deviceID: device, .init(instance: "beta", epoch: 100, online: false))
        #expect(gamma.custodian(of: device) == "beta")
        #expect(CommandRouting.decide(deviceID: device, view: gamma, mode: .broadcast) == .ignore(handledBy: "beta"))
        gamma.memberState("beta", online: false)
        #expect(gamma.custodian(of: device) == OwnershipView.rendezvous(key: device, among: ["alpha", "gamma"]))
    }

    /// A device still "online" on an instance that died (its last will said `offline`) is
    /// held by nobody: its commands are parked instead of waiting for a dead owner.
    @Test func aDeadOwnerHoldsNothing() {
        var beta = view("beta", members: ["alpha"])
        beta.observe(deviceID: "X1", .init(instance: "alpha", epoch: 100, online: true))
        beta.memberState("alpha", online: false)
        #expect(beta.owner(of: "X1") == nil)
        #expect(CommandRouting.decide(deviceID: "X1", view: beta, mode: .broadcast) == .park)
    }

    @Test func forwardRoundTripsToTheOwner() throws {
        let topics = try TopicLayout(base: "fleet/eu", instance: "edge")
        let request = try F.request(#"{"type":"sosNumber","params":{"index":1,"phone":"+123456"},"ttl_s":60}"#)
        let topic = "fleet/eu/\(F.device)/cmd"
        let message = CommandRouting.forwardMessage(request, topic: topic, to: "main", topics: topics, deviceID: F.device)
        #expect(message.topic == "fleet/eu/bridge/main/forward")
        #expect(String(decoding: message.payload, as: UTF8.self)
            == #"{"id":"b-1","type":"sosNumber","params":{"index":1,"phone":"+123456"},"ttl_s":60,"from":"edge","topic":"fleet/eu/CC8011400042499/cmd"}"#)
        let received = try #require(ForwardedCommand.parse(
            message.payload, base: "fleet/eu", templates: F.templates, policy: F.policy, assignID: { "never" }))
        #expect(received.from == "edge")
        #expect(received.deviceID == F.device)
        #expect(!received.isHandOver)
        #expect(received.command == .accepted(request))
    }

    /// A hand-over says so, and carries what is left of the ttl instead of the original.
    @Test func aHandOverIsMarkedAndCarriesTheRemainingTTL() throws {
        let topics = try TopicLayout(base: "cctr", instance: "alpha")
        let request = try F.request(#"{"id":"h-1","type":"custom","params":{"data":"PING"},"ttl_s":300}"#)
        let message = CommandRouting.forwardMessage(
            request, topic: "cctr/\(F.device)/cmd", handOverTTL: 42, to: "beta", topics: topics, deviceID: F.device)
        #expect(String(decoding: message.payload, as: UTF8.self)
            == #"{"id":"h-1","type":"custom","params":{"data":"PING"},"ttl_s":42,"from":"alpha","topic":"cctr/CC8011400042499/cmd","handover":true}"#)
        let received = try #require(ForwardedCommand.parse(
            message.payload, base: "cctr", templates: F.templates, policy: F.policy, assignID: { "never" }))
        #expect(received.isHandOver)
        guard case .accepted(let handed) = received.command else { throw CancellationError() }
        #expect(handed.ttlSeconds == 42 && handed.id == "h-1")
        let bad = Array(#"{"type":"rebootDevice","from":"a","topic":"cctr/X1/cmd","handover":"yes"}"#.utf8)
        #expect(ForwardedCommand.parse(bad, base: "cctr", templates: F.templates, policy: F.policy, assignID: { "b" }) == nil)
    }

    /// The owner publishes the results, so it needs the controller's response topic and its
    /// binary correlation data (bytes that are not UTF-8 included).
    @Test func forwardCarriesTheResponseTargetToTheOwner() throws {
        let topics = try TopicLayout(base: "cctr", instance: "edge")
        let request = try F.request(#"{"id":"c-43","type":"custom","params":{"data":"PING"}}"#)
        let target = ResponseTarget(topic: "replies/controller-7", correlationData: [0x00, 0x01] + Array("corr-42".utf8) + [0xFF])
        let message = CommandRouting.forwardMessage(request, topic: "cctr/\(F.device)/cmd", responseTarget: target, to: "main", topics: topics, deviceID: F.device)
        #expect(String(decoding: message.payload, as: UTF8.self)
            == #"{"id":"c-43","type":"custom","params":{"data":"PING"},"ttl_s":300,"from":"edge","topic":"cctr/CC8011400042499/cmd","response_topic":"replies/controller-7","correlation_data":"AAFjb3JyLTQy/w=="}"#)
        let received = try #require(ForwardedCommand.parse(
            message.payload, base: "cctr", templates: F.templates, policy: F.policy, assignID: { "never" }))
        #expect(received.responseTarget == target)
        #expect(received.command == .accepted(request))

        let withoutData = ResponseTarget(topic: "replies/x", correlationData: nil)
        let plain = CommandRouting.forwardPayload(request, from: "edge", topic: "cctr/\(F.device)/cmd", responseTarget: withoutData)
        #expect(!String(decoding: plain, as: UTF8.self).contains("correlation_data"))
        let parsed = ForwardedCommand.parse(plain, base: "cctr", templates: F.templates, policy: F.policy, assignID: { "never" })
        #expect(parsed?.responseTarget == withoutData)
    }

    @Test func forwardsWithAMalformedResponseTargetAreRefused() {
        let command = #""type":"rebootDevice","from":"edge","topic":"cctr/X1/cmd""#
        for extra in [#""correlation_data":"AAE=""#, #""response_topic":"r","correlation_data":"not base64!""#,
                      #""response_topic":7"#, #""response_topic":"r","correlation_data":1"#] {
            let payload = Array("{\(command),\(extra)}".utf8)
            #expect(ForwardedCommand.parse(payload, base: "cctr", templates: F.templates, policy: F.policy, assignID: { "b" }) == nil, "\(extra)")
        }
    }

    @Test func forwardsThatNameNoDeviceAreRefused() {
        for payload in [#"{"type":"rebootDevice","from":"edge","topic":"other/X1/cmd"}"#,
                        #"{"type":"rebootDevice","from":"edge","topic":"cctr/bad+id/cmd"}"#,
                        #"{"type":"rebootDevice","topic":"cctr/X1/cmd"}"#, "{"] {
            #expect(ForwardedCommand.parse(Array(payload.utf8), base: "cctr", templates: F.templates, policy: F.policy, assignID: { "b" }) == nil, "\(payload)")
        }
    }

    @Test(arguments: [
        ("cctr/X1/cmd", "X1"), ("fleet/eu/CC8011400042499/cmd", nil), ("cctr/bridge/cmd", nil),
        ("cctr/a/b/cmd", nil), ("cctr//cmd", nil), ("cctr/X1/cmd/result", nil),
    ] as [(String, String?)])
    func commandTopicsNameTheirDevice(_ topic: String, _ id: String?) {
        #expect(CommandRouting.deviceID(commandTopic: topic, base: "cctr") == id)
    }
}
