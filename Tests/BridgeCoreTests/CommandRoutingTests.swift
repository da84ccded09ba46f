import BridgeCore
import TrackerCodec
import Testing

@Suite struct CommandRoutingTests {
    typealias F = CommandFixtures

    func status(_ instance: String, epoch: Int64, state: String = "online") -> [UInt8] {
        Array(#"{"v":1,"device_id":"X1","state":"\#(state)","transport":"tcp","peer":"203.0.113.9:1","instance":"\#(instance)","session_epoch":\#(epoch),"connected_at":"2026-11-24T19:55:02.314Z","last_seen":"2026-11-24T19:55:02.314Z","disconnected_at":null}"#.utf8)
    }

    @Test func unknownDevicesAndOwnDevicesAreLocal() {
        var routing = CommandRouting(instance: "main")
        #expect(routing.route(deviceID: "X1") == .local)
        routing.statusReceived(deviceID: "X1", payload: status("main", epoch: 10))
        #expect(routing.route(deviceID: "X1") == .local)
    }

    @Test func theHighestSessionEpochOwnsTheDevice() {
        var routing = CommandRouting(instance: "main")
        routing.statusReceived(deviceID: "X1", payload: status("edge", epoch: 20))
        routing.statusReceived(deviceID: "X1", payload: status("main", epoch: 10, state: "offline"))
        #expect(routing.route(deviceID: "X1") == .forward(toInstance: "edge"))
        routing.statusReceived(deviceID: "X1", payload: status("main", epoch: 21))
        #expect(routing.route(deviceID: "X1") == .local)
        routing.statusReceived(deviceID: "X1", payload: Array("not json".utf8))
        #expect(routing.route(deviceID: "X1") == .local)
        routing.statusReceived(deviceID: "X1", payload: [])
        #expect(routing.owners["X1"] == nil)
    }

    @Test func forwardRoundTripsToTheOwner() throws {
        let edge = CommandRouting(instance: "edge")
        let topics = try TopicLayout(base: "fleet/eu", instance: "edge")
        let request = try F.request(#"{"type":"sosNumber","params":{"index":1,"phone":"+123456"},"ttl_s":60}"#)
        let topic = "fleet/eu/\(F.device)/cmd"
        let message = edge.forwardMessage(request, topic: topic, to: "main", topics: topics, deviceID: F.device)
        #expect(message.topic == "fleet/eu/bridge/main/forward")
        #expect(String(decoding: message.payload, as: UTF8.self)
            == #"{"id":"b-1","type":"sosNumber","params":{"index":1,"phone":"+123456"},"ttl_s":60,"from":"edge","topic":"fleet/eu/CC8011400042499/cmd"}"#)
        let received = try #require(ForwardedCommand.parse(
            message.payload, base: "fleet/eu", templates: F.templates, policy: F.policy, assignID: { "never" }))
        #expect(received.from == "edge")
        #expect(received.deviceID == F.device)
        #expect(received.command == .accepted(request))
    }

    /// The owner publishes the results, so it needs the controller's response topic and its
    /// binary correlation data (bytes that are not UTF-8 included).
    @Test func forwardCarriesTheResponseTargetToTheOwner() throws {
        let edge = CommandRouting(instance: "edge")
        let topics = try TopicLayout(base: "cctr", instance: "edge")
        let request = try F.request(#"{"id":"c-43","type":"custom","params":{"data":"PING"}}"#)
        let target = ResponseTarget(topic: "replies/controller-7", correlationData: [0x00, 0x01] + Array("corr-42".utf8) + [0xFF])
        let message = edge.forwardMessage(request, topic: "cctr/\(F.device)/cmd", responseTarget: target, to: "main", topics: topics, deviceID: F.device)
        #expect(String(decoding: message.payload, as: UTF8.self)
            == #"{"id":"c-43","type":"custom","params":{"data":"PING"},"ttl_s":300,"from":"edge","topic":"cctr/CC8011400042499/cmd","response_topic":"replies/controller-7","correlation_data":"AAFjb3JyLTQy/w=="}"#)
        let received = try #require(ForwardedCommand.parse(
            message.payload, base: "cctr", templates: F.templates, policy: F.policy, assignID: { "never" }))
        #expect(received.responseTarget == target)
        #expect(received.command == .accepted(request))

        let withoutData = ResponseTarget(topic: "replies/x", correlationData: nil)
        let plain = edge.forwardPayload(request, topic: "cctr/\(F.device)/cmd", responseTarget: withoutData)
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
