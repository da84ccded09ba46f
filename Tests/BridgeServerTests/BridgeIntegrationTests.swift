import BridgeServer
import Foundation
import TestSupport
import Testing

/// The live bridge against a real mosquitto, with fake trackers on real loopback sockets.
@Suite(.serialized, .tearsDownFixtures) struct BridgeIntegrationTests {
    @Test func publicFramesOverTCPArePublishedWithStateAndValidPayloads() async throws {
        let fixture = try await BridgeFixture.start()
        try await fixture.waitFor("bridge online") { $0.contains { $0.topic == "cctr/bridge/test/state" && $0.text == "online" } }

        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        // Frames before the login are held and published first, as the contract says.
        try tracker.send("*161101144927UD00144927A1203.5394S07657.7255W000.4161101255.0011111111L022043^")
        try tracker.send("*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^\r\n")
        for sample in PublicFrame.all where sample.decoded["device_id"] == nil {
            // Split in two writes: the framer must reassemble.
            let bytes = Array(sample.frame.utf8)
            try tracker.send(Array(bytes.prefix(7)))
            try tracker.send(Array(bytes.dropFirst(7)))
        }
        try tracker.send("garbage\r\n")
        let expectedPositions = 1 + 1 + PublicFrame.all.filter { $0.decoded["device_id"] == nil && $0.decoded["kind"]?.string == "position" }.count
        try await fixture.waitFor("every position") {
            $0.filter { $0.topic == "cctr/CC8011400042499/position" }.count == expectedPositions
        }
        let device = fixture.messages(on: "/CC8011400042499/position")
        // Held frame first (odometer 22043), then the login's own position.
        #expect(device.first?.json?["odometer_m"] == .number(22043))
        #expect(device.dropFirst().first?.json?["message_type"]?.string == "UB05")
        #expect(fixture.messages(on: "/CC8011400042499/availability").map(\.text) == ["online"])
        #expect(fixture.messages(on: "/CC8011400042499/availability").allSatisfy { $0.retain })
        let status = try #require(fixture.messages(on: "/CC8011400042499/status").first?.json)
        #expect(status["state"]?.string == "online" && status["instance"]?.string == "test" && status["transport"]?.string == "tcp")
        try await fixture.waitFor("alarm, history, dead letter") { messages in
            messages.contains { $0.topic == "cctr/CC8011400042499/alarm" }
                && messages.filter { $0.topic == "cctr/CC8011400042499/history" }.count == 2
                && messages.contains { $0.topic == "cctr/bridge/test/deadletter" && $0.json?["reason"]?.string == "garbage" }
        }
        #expect(fixture.messages(on: "/alarm").allSatisfy { !$0.retain && $0.qos == 1 })

        // The device leaves: offline, retained.
        tracker.shutdownWrite()
        try await fixture.waitFor("device offline") { messages in
            messages.contains { $0.topic == "cctr/CC8011400042499/availability" && $0.text == "offline" }
                && messages.contains { $0.topic == "cctr/CC8011400042499/status" && $0.json?["state"]?.string == "offline" }
        }
        let offline = try #require(fixture.messages(on: "/CC8011400042499/status").last?.json)
        #expect(offline["state"]?.string == "offline")
        #expect(offline["disconnected_at"]?.string != nil)
        #expect(offline["session_epoch"] == status["session_epoch"])

        _ = try SchemaValidator.validate(fixture.subscriber.messages)
    }

    @Test func udpDatagramsAreSessionsBoundByLogin() async throws {
        let fixture = try await BridgeFixture.start()
        let tracker = try TrackerClient(udpPort: fixture.udpPort)
        try tracker.send("*160618232529UB05CW9999C00000538232529A5009.1747N01910.3829E0.000160618298.2811000000L000000^")
        try tracker.send("*160618232614UD00232614A5009.1747N01910.3829E0.000160618298.2811000000L000001^*170821223045UB00HSO^")
        let messages = try await fixture.waitFor("UDP positions") {
            $0.filter { $0.topic == "cctr/CW9999C00000538/position" }.count == 2
        }
        let position = try #require(messages.last { $0.topic == "cctr/CW9999C00000538/position" }?.json)
        #expect(position["source"]?["transport"]?.string == "udp")
        #expect(position["odometer_m"] == .number(1))
        #expect(fixture.messages(on: "/CW9999C00000538/availability").map(\.text) == ["online"])
        _ = try SchemaValidator.validate(fixture.subscriber.messages)
    }

    /// The handler's sweep runs every 30 s at the default idle timeout, so a binding on disk
    /// within 5 s was saved because it was new, and survives a crash before the next sweep.
    @Test func aNewUDPBindingIsSavedWithoutWaitingForTheSweep() async throws {
        let fixture = try await BridgeFixture.start()
        let tracker = try TrackerClient(udpPort: fixture.udpPort)
        try tracker.send("*160618232529UB05CW9999C00000538232529A5009.1747N01910.3829E0.000160618298.2811000000L000000^")
        let file = fixture.spoolDirectory.appendingPathComponent("udp-bindings.json")
        let deadline = ContinuousClock.now + .seconds(5)
        var saved: [String: JSONValue] = [:]
        while ContinuousClock.now < deadline {
            if let data = try? Data(contentsOf: file), case .object(let bindings)? = try? JSONValue.parse(Array(data)), !bindings.isEmpty {
                saved = bindings
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(saved.values.map { $0["deviceID"]?.string } == ["CW9999C00000538"])
        #expect(saved.keys.allSatisfy { $0.hasPrefix("127.0.0.1:") })
    }

    @Test func aNewSessionReplacesTheOldOneWithoutOffline() async throws {
        let fixture = try await BridgeFixture.start()
        let login = "*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^"
        let first = try TrackerClient(tcpPort: fixture.tcpPort)
        try first.send(login)
        try await fixture.waitFor("first session") { $0.contains { $0.topic.hasSuffix("/status") } }
        let second = try TrackerClient(tcpPort: fixture.tcpPort)
        try second.send(login)
        #expect(await first.waitForClose(), "the older session is closed")
        try await fixture.waitFor("second session status") { $0.filter { $0.topic.hasSuffix("/status") }.count == 2 }
        // An absence check: the old session's close runs on its own event loop, after the new
        // login, and no event marks that it published nothing; a quiet period is the check.
        try await Task.sleep(for: .milliseconds(300))
        #expect(fixture.messages(on: "/availability").map(\.text) == ["online", "online"])
        let epochs = fixture.messages(on: "/status").compactMap { $0.json?["session_epoch"]?.number }
        #expect(epochs.count == 2 && epochs[1] > epochs[0])
    }

    @Test func brokerRestartIsSurvivedWithoutLoss() async throws {
        let fixture = try await BridgeFixture.start(persistence: true)
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send("*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^")
        try await fixture.waitFor("login") { $0.contains { $0.topic == "cctr/CC8011400042499/position" } }
        fixture.subscriber.stop()
        fixture.broker.stop()
        // While the broker is down, the tracker keeps sending: the spool keeps every frame.
        for i in 1...50 {
            let odometer = String(format: "%06d", i)
            try tracker.send("*161101144927UD00144927A1203.5394S07657.7255W000.4161101255.0011111111L\(odometer)^")
        }
        // All 51 frames read (and so spooled) before the broker comes back.
        #expect(try await eventually { try await fixture.metric("cctr_frames_total") == 51 })
        try fixture.broker.start()
        let subscriber = try await MosquittoSubscriber(port: fixture.broker.port, topics: ["cctr/#"], retainAsPublished: true)
        defer { subscriber.stop() }
        let deadline = ContinuousClock.now.advanced(by: .seconds(20))
        var odometers: [Int] = []
        while ContinuousClock.now < deadline {
            odometers = subscriber.messages.filter { $0.topic == "cctr/CC8011400042499/position" }
                .compactMap { $0.json?["odometer_m"]?.number }.map { Int($0) }.filter { $0 > 0 }
            if Set(odometers).count == 50 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(Set(odometers) == Set(1...50), "every frame sent while the broker was down arrives")
        var firstSeen: [Int] = []
        for o in odometers where !firstSeen.contains(o) { firstSeen.append(o) }
        #expect(firstSeen == Array(1...50), "in order")
        #expect(subscriber.messages.contains { $0.topic == "cctr/bridge/test/state" && $0.text == "online" })
    }

    @Test func shutdownPublishesOfflineForDevicesAndTheBridge() async throws {
        let fixture = try await BridgeFixture.start()
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send("*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^")
        try await fixture.waitFor("online") { $0.contains { $0.topic.hasSuffix("/availability") } }
        try await fixture.stopBridge()
        try await fixture.waitFor("offline") { messages in
            messages.contains { $0.topic == "cctr/CC8011400042499/availability" && $0.text == "offline" }
                && messages.contains { $0.topic == "cctr/bridge/test/state" && $0.text == "offline" }
        }
        #expect(await tracker.waitForClose())
    }

    @Test func healthEndpointsReportReadinessAndMetrics() async throws {
        let fixture = try await BridgeFixture.start()
        let port = try #require(fixture.bridge.healthPort)
        try await fixture.waitFor("online") { $0.contains { $0.topic == "cctr/bridge/test/state" } }
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send("*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^")
        try await fixture.waitFor("position") { $0.contains { $0.topic.hasSuffix("/position") } }
        #expect(try LoopbackHTTP.get(port: port, path: "/healthz").status == 200)
        #expect(try LoopbackHTTP.get(port: port, path: "/readyz").status == 200)
        let metrics = try LoopbackHTTP.get(port: port, path: "/metrics")
        #expect(metrics.text.contains(#"cctr_frames_total{type="UB05",protocol="carscop"} 1"#))
        #expect(metrics.text.contains("cctr_mqtt_connected 1"))
        #expect(metrics.text.contains(#"cctr_connections{transport="tcp"} 1"#))
        #expect(metrics.text.contains("cctr_publish_seconds"))
        fixture.broker.stop()
        #expect(try await eventually { try LoopbackHTTP.get(port: port, path: "/readyz").status == 503 })
    }
}
