import BridgeServer
import Foundation
import TestSupport
import Testing

/// One port, every CCTR: carscop and H02 trackers over TCP and UDP at the same time on a
/// real bridge and a real mosquitto, the `V1` answer, and H02 commands acked (or failed) by
/// the tracker's `V4` reply.
@Suite(.serialized, .tearsDownFixtures) struct H02IntegrationTests {
    static let carscopLogin = "*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^"

    static func v1(_ id: String, time: String = "101112") -> String {
        "*HQ,\(id),V1,\(time),A,2106.8799,S,14910.2583,E,012.30,158,241126,FFFFFBFF#"
    }

    /// Reads downlink bytes until `count` frames ending in `#` arrived (answers and commands
    /// may come in one read or several).
    static func receiveFrames(_ tracker: TrackerClient, count: Int) async -> [String] {
        var text = ""
        while text.filter({ $0 == "#" }).count < count {
            let bytes = await tracker.receive()
            guard !bytes.isEmpty else { break }
            text += String(decoding: bytes, as: UTF8.self)
        }
        return text.split(separator: "#").map { $0 + "#" }
    }

    @Test func carscopAndH02OverTCPAndUDPShareOnePort() async throws {
        let fixture = try await BridgeFixture.start()
        let carscopTCP = try TrackerClient(tcpPort: fixture.tcpPort)
        let carscopUDP = try TrackerClient(udpPort: fixture.udpPort)
        let h02TCP = try TrackerClient(tcpPort: fixture.tcpPort)
        let h02UDP = try TrackerClient(udpPort: fixture.udpPort)
        let binaryTCP = try TrackerClient(tcpPort: fixture.tcpPort)
        try carscopTCP.send(Self.carscopLogin)
        try carscopUDP.send(Self.carscopLogin.replacingOccurrences(of: "CC8011400042499", with: "CW9999C00000538"))
        try h02TCP.send(Self.v1("4105131188"))
        try h02UDP.send(Self.v1("4105131189"))
        try binaryTCP.send(H02Capture.hex("2441060116601245431311165035313006004318210e000000fffffbffff0024"))

        let answer = try #require(await Self.receiveFrames(h02TCP, count: 1).first)
        #expect(answer.hasPrefix("*HQ,4105131188,V4,V1,") && answer.count == "*HQ,4105131188,V4,V1,20261124101112#".count)
        let udpAnswer = try #require(await Self.receiveFrames(h02UDP, count: 1).first)
        #expect(udpAnswer.hasPrefix("*HQ,4105131189,V4,V1,"))

        let devices = ["CC8011400042499": ("carscop", "tcp"), "CW9999C00000538": ("carscop", "udp"),
                       "4105131188": ("h02", "tcp"), "4105131189": ("h02", "udp"), "4106011660": ("h02", "tcp")]
        try await fixture.waitFor("a position from every device") { messages in
            devices.keys.allSatisfy { id in messages.contains { $0.topic == "cctr/\(id)/position" } }
        }
        for (id, (proto, transport)) in devices {
            let position = try #require(fixture.messages(on: "/\(id)/position").first?.json)
            #expect(position["source"]?["protocol"]?.string == proto, "\(id)")
            #expect(position["source"]?["transport"]?.string == transport, "\(id)")
        }
        try await fixture.waitFor("statuses with their protocol") { _ in
            devices.allSatisfy { id, value in
                fixture.messages(on: "/\(id)/status").contains { $0.json?["protocol"]?.string == value.0 }
            }
        }
        let h02Speed = try #require(fixture.messages(on: "/4105131188/position").first?.json?["speed_kmh"]?.number)
        #expect(h02Speed == 22.78)
        _ = try SchemaValidator.validate(fixture.subscriber.messages)
    }

    @Test func engineStopGoesOutAsS20AndIsAckedByTheV4Reply() async throws {
        let fixture = try await BridgeFixture.start()
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        let id = "4105131188"
        try tracker.send(Self.v1(id))
        #expect(await Self.receiveFrames(tracker, count: 1).first?.contains(",V4,V1,") == true)
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/\(id)/cmd", payload: #"{"id":"stop-1","type":"engineStop"}"#)
        let frame = try #require(await Self.receiveFrames(tracker, count: 1).first)
        let fields = frame.dropLast().split(separator: ",", omittingEmptySubsequences: false)
        #expect(fields.count == 6 && fields[0] == "*HQ" && fields[1] == Substring(id) && fields[2] == "S20")
        #expect(fields.count == 6 && fields[3].count == 6 && fields[3].allSatisfy(\.isNumber) && fields[4] == "1" && fields[5] == "1")
        let reply = "*HQ,\(id),V4,S20,DONE,\(fields.count > 3 ? fields[3] : ""),101300,A,2106.8799,S,14910.2583,E,0.00,000,241126,FFFFFBFF#"
        try tracker.send(reply)
        let results = { fixture.messages(on: "/\(id)/cmd/result").compactMap(\.json) }
        try await fixture.waitFor("acked") { _ in results().contains { $0["status"]?.string == "acked" } }
        #expect(results().map { $0["status"]?.string } == ["sent", "acked"])
        let acked = try #require(results().last)
        #expect(acked["final"]?.bool == true)
        #expect(acked["frame"]?.string == frame)
        #expect(acked["device_reply"]?.string == reply)
        // The reply's position is published too, and no unmatched_reply event.
        try await fixture.waitFor("the reply's position") { _ in fixture.messages(on: "/\(id)/position").count == 2 }
        #expect(fixture.messages(on: "/\(id)/event").isEmpty)
        _ = try SchemaValidator.validate(fixture.subscriber.messages)
    }

    @Test func anErrorReplyFailsTheCommandAndAnUnexpectedReplyIsAnEvent() async throws {
        let fixture = try await BridgeFixture.start()
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        let id = "4105131190"
        try tracker.send(Self.v1(id))
        _ = await Self.receiveFrames(tracker, count: 1)
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/\(id)/cmd", payload: #"{"id":"arm-1","type":"alarmArm"}"#)
        let frame = try #require(await Self.receiveFrames(tracker, count: 1).first)
        #expect(frame.contains(",SCF,") && frame.hasSuffix(",0,0#"))
        try tracker.send("*HQ,\(id),V4,SCF,ERROR,101300#")
        let results = { fixture.messages(on: "/\(id)/cmd/result").compactMap(\.json) }
        try await fixture.waitFor("failed") { _ in results().contains { $0["status"]?.string == "failed" } }
        #expect(results().last?["device_reply"]?.string == "*HQ,\(id),V4,SCF,ERROR,101300#")
        try tracker.send("*HQ,\(id),V4,S20,DONE,101400#")
        try await fixture.waitFor("unmatched reply") { _ in
            fixture.messages(on: "/\(id)/event").contains { $0.json?["kind"]?.string == "unmatched_reply" }
        }
        _ = try SchemaValidator.validate(fixture.subscriber.messages)
    }

    @Test func aConnectionKeepsTheProtocolOfItsFirstFrame() async throws {
        let fixture = try await BridgeFixture.start()
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(Self.carscopLogin)
        try tracker.send(Self.v1("4105131188"))
        try await fixture.waitFor("protocol switch") { messages in
            messages.contains { $0.topic.hasSuffix("/deadletter") && $0.json?["reason"]?.string == "protocol switch" }
        }
        #expect(fixture.messages(on: "/4105131188/position").isEmpty)
    }

    /// Home Assistant discovery and OwnTracks need nothing protocol-specific: an H02 device
    /// gets its discovery document and its OwnTracks location like a carscop one.
    @Test func homeAssistantAndOwnTracksWorkForH02Devices() async throws {
        let fixture = try await BridgeFixture.start { options in
            options.haDiscovery = true
            options.owntracksBase = "owntracks"
        }
        let watcher = try await MosquittoSubscriber(
            port: fixture.broker.port, topics: ["homeassistant/#", "owntracks/#"], retainAsPublished: true)
        defer { watcher.stop() }
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(Self.v1("4105131188"))
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while ContinuousClock.now < deadline, watcher.messages.count < 2 {
            try await Task.sleep(for: .milliseconds(20))
        }
        let discovery = try #require(watcher.messages.first { $0.topic == "homeassistant/device/cctr_4105131188/config" })
        #expect(discovery.json?["dev"]?["mdl"]?.string == "H02")
        let location = try #require(watcher.messages.first { $0.topic == "owntracks/4105131188" })
        #expect(location.json?["lat"]?.number == -21.114665)
        #expect(location.json?["vel"]?.number == 23, "12.30 knots is 22.78 km/h")
        _ = try SchemaValidator.validate([discovery, location], arguments: ["--owntracks-base", "owntracks"])
    }
}
