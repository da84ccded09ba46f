import BridgeServer
import Foundation
import TestSupport
import Testing

/// Commands end to end: `mosquitto_pub` to `<base>/<id>/cmd`, a fake tracker on a real socket
/// receives the frame, results arrive on `cmd/result` (and the MQTT 5 response topic).
@Suite(.serialized, .tearsDownFixtures) struct CommandIntegrationTests {
    static let login = "*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^"
    static let device = "CC8011400042499"

    func results(_ fixture: BridgeFixture) -> [JSONValue] {
        fixture.messages(on: "/\(Self.device)/cmd/result").compactMap(\.json)
    }

    @Test func customCommandReachesTheConnectedTracker() async throws {
        let fixture = try await BridgeFixture.start()
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(Self.login)
        try await fixture.waitFor("online") { $0.contains { $0.topic.hasSuffix("/availability") } }
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/\(Self.device)/cmd",
                              payload: #"{"id":"c-1","type":"custom","params":{"data":"TIMEZONE*123456*+00"}}"#)
        #expect(String(decoding: await tracker.receive(), as: UTF8.self) == "TIMEZONE*123456*+00")
        try await fixture.waitFor("sent") { _ in results(fixture).contains { $0["status"]?.string == "sent" } }
        let sent = try #require(results(fixture).last)
        #expect(sent["id"]?.string == "c-1")
        #expect(sent["final"]?.bool == true)
        #expect(sent["frame"]?.string == "TIMEZONE*123456*+00")
        // The same id again within its ttl is not executed again: its result is re-published.
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/\(Self.device)/cmd",
                              payload: #"{"id":"c-1","type":"custom","params":{"data":"TIMEZONE*123456*+00"}}"#)
        try await fixture.waitFor("repeated result") { _ in results(fixture).count == 2 }
        #expect(results(fixture)[1] == results(fixture)[0])
        _ = try SchemaValidator.validate(fixture.subscriber.messages)
    }

    @Test func offlineDeviceGetsItsQueuedCommandOnLogin() async throws {
        let fixture = try await BridgeFixture.start()
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/\(Self.device)/cmd",
                              payload: #"{"id":"q-1","type":"custom","params":{"data":"RESET*123456"}}"#)
        try await fixture.waitFor("queued") { _ in results(fixture).contains { $0["status"]?.string == "queued" } }
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(Self.login)
        #expect(String(decoding: await tracker.receive(), as: UTF8.self) == "RESET*123456")
        try await fixture.waitFor("sent") { _ in results(fixture).contains { $0["status"]?.string == "sent" } }
        #expect(results(fixture).map { $0["status"]?.string } == ["queued", "sent"])
    }

    @Test func queuedCommandExpires() async throws {
        let fixture = try await BridgeFixture.start()
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/\(Self.device)/cmd",
                              payload: #"{"id":"e-1","type":"custom","params":{"data":"X"},"ttl_s":1}"#)
        try await fixture.waitFor("expired", timeout: .seconds(6)) { _ in
            results(fixture).contains { $0["status"]?.string == "expired" }
        }
        #expect(results(fixture).last?["final"]?.bool == true)
    }

    @Test func rejectionsAndDeadLetters() async throws {
        let fixture = try await BridgeFixture.start()
        let topic = "cctr/\(Self.device)/cmd"
        try Publisher.publish(port: fixture.broker.port, topic: topic, payload: #"{"id":"x","type":"#)
        try Publisher.publish(port: fixture.broker.port, topic: topic, payload: #"{"id":"u","type":"launchRocket"}"#)
        try Publisher.publish(port: fixture.broker.port, topic: topic, payload: #"{"id":"d","type":"rebootDevice"}"#)
        try Publisher.publish(port: fixture.broker.port, topic: topic, payload: "{\"id\":\"h\",\"type\":\"custom\",\"params\":{\"data\":\"A^B\"}}")
        try await fixture.waitFor("four rejections") { _ in results(fixture).count == 4 }
        let rejected = results(fixture)
        #expect(rejected.allSatisfy { $0["status"]?.string == "rejected" && $0["final"]?.bool == true })
        #expect(rejected[0]["id"]?.isNull == true)
        #expect(rejected.dropFirst().map { $0["id"]?.string } == ["u", "d", "h"])
        try Publisher.publish(port: fixture.broker.port, topic: topic, payload: #"{"type":"custom","params":{"data":"X"}}"#, retain: true)
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/bad.id/cmd", payload: "{}")
        try await fixture.waitFor("dead letters") { messages in
            let reasons = messages.filter { $0.topic.hasSuffix("/deadletter") }.compactMap { $0.json?["reason"]?.string }
            return reasons.contains("retained command") && reasons.contains("bad device id")
        }
        try Publisher.publish(port: fixture.broker.port, topic: topic, payload: "", retain: true)
        // Only what the bridge published: the hostile commands themselves are inputs.
        _ = try SchemaValidator.validate(fixture.subscriber.messages.filter { !$0.payload.isEmpty && !$0.topic.hasSuffix("/cmd") })
    }

    @Test func resultGoesToTheMQTT5ResponseTopicWithCorrelationData() async throws {
        let fixture = try await BridgeFixture.start()
        let responses = try await MosquittoSubscriber(port: fixture.broker.port, topics: ["replies/#"])
        defer { responses.stop() }
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(Self.login)
        try await fixture.waitFor("online") { $0.contains { $0.topic.hasSuffix("/availability") } }
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/\(Self.device)/cmd",
                              payload: #"{"id":"r-1","type":"custom","params":{"data":"PING"}}"#,
                              responseTopic: "replies/controller-7", correlationData: "corr-42")
        let replies = try await responses.waitForMessages(count: 1)
        #expect(replies[0].topic == "replies/controller-7")
        #expect(replies[0].correlationData == Array("corr-42".utf8))
        #expect(replies[0].json?["status"]?.string == "sent")
        #expect(String(decoding: await tracker.receive(), as: UTF8.self) == "PING")
    }

    /// Two instances on one broker share the command subscription; whichever takes a command
    /// forwards it to the instance that owns the device, so every command reaches it.
    @Test func commandsReachTheOwningInstanceThroughForwarding() async throws {
        let owner = try await BridgeFixture.start { $0.instance = "alpha" }
        let tracker = try TrackerClient(tcpPort: owner.tcpPort)
        try tracker.send(Self.login)
        try await owner.waitFor("status") { $0.contains { $0.topic == "cctr/\(Self.device)/status" } }
        // A second instance on the same broker, which receives its share of the commands. It
        // starts after the status is retained: the broker hands it the status right after its
        // subscription, before any command published later, and it handles them in that order.
        _ = try await BridgeFixture.start(broker: owner.broker) { $0.instance = "beta" }
        var received = ""
        for i in 1...6 {
            try Publisher.publish(port: owner.broker.port, topic: "cctr/\(Self.device)/cmd",
                                  payload: "{\"id\":\"f-\(i)\",\"type\":\"custom\",\"params\":{\"data\":\"F\(i);\"}}")
        }
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while received.components(separatedBy: ";").count < 7, ContinuousClock.now < deadline {
            received += String(decoding: await tracker.receive(), as: UTF8.self)
        }
        #expect(Set(received.split(separator: ";").map(String.init)) == Set((1...6).map { "F\($0)" }))
        let forwards = owner.messages(on: "/bridge/alpha/forward")
        let results = owner.messages(on: "/cmd/result").compactMap(\.json)
        #expect(results.allSatisfy { $0["instance"]?.string == "alpha" })
        #expect(forwards.allSatisfy { $0.json?["from"]?.string == "beta" })
    }

    /// A controller's MQTT 5 response target survives forwarding: every command's results
    /// come back on the response topic with its own correlation data, whichever instance the
    /// broker handed it to.
    @Test func forwardedCommandsAnswerOnTheResponseTopic() async throws {
        let owner = try await BridgeFixture.start { $0.instance = "alpha" }
        _ = try await BridgeFixture.start(broker: owner.broker) { $0.instance = "beta" }
        let responses = try await MosquittoSubscriber(port: owner.broker.port, topics: ["replies/#"])
        defer { responses.stop() }
        let tracker = try TrackerClient(tcpPort: owner.tcpPort)
        try tracker.send(Self.login)
        try await owner.waitFor("status") { $0.contains { $0.topic == "cctr/\(Self.device)/status" } }
        // Probes until beta forwards one: from then on beta knows alpha owns the device.
        var probes = 0
        try await owner.waitFor("beta forwards a probe") { messages in
            if messages.contains(where: { $0.topic == "cctr/bridge/alpha/forward" }) { return true }
            probes += 1
            try? Publisher.publish(port: owner.broker.port, topic: "cctr/\(Self.device)/cmd",
                                   payload: "{\"id\":\"probe-\(probes)\",\"type\":\"custom\",\"params\":{\"data\":\"P;\"}}")
            return false
        }
        for i in 1...8 {
            try Publisher.publish(port: owner.broker.port, topic: "cctr/\(Self.device)/cmd",
                                  payload: "{\"id\":\"rt-\(i)\",\"type\":\"custom\",\"params\":{\"data\":\"R\(i);\"}}",
                                  responseTopic: "replies/controller-7", correlationData: "corr-\(i)")
        }
        // Every command's results arrive on the response topic with its correlation data: `sent`
        // (final), after `queued` when it came while the one before was still being written.
        let ids = Set((1...8).map { "rt-\($0)" })
        let deadline = ContinuousClock.now.advanced(by: .seconds(15))
        func finals() -> Set<String> {
            Set(responses.messages.compactMap { $0.json?["final"]?.bool == true ? $0.json?["id"]?.string : nil })
        }
        while finals() != ids, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let byID = Dictionary(grouping: responses.messages) { $0.json?["id"]?.string ?? "" }
        #expect(Set(byID.keys) == ids)
        for (id, messages) in byID {
            #expect(messages.allSatisfy { $0.correlationData == Array("corr-\(id.dropFirst(3))".utf8) }, "\(id)")
            let statuses = messages.compactMap { $0.json?["status"]?.string }
            #expect(statuses == ["sent"] || statuses == ["queued", "sent"], "\(id): \(statuses)")
            #expect(messages.allSatisfy { $0.json?["instance"]?.string == "alpha" })
        }
        let forwarded = owner.messages(on: "/bridge/alpha/forward").filter { $0.json?["id"]?.string?.hasPrefix("rt-") == true }
        #expect(!forwarded.isEmpty, "mosquitto hands beta its share of the commands")
        #expect(forwarded.allSatisfy { $0.json?["response_topic"]?.string == "replies/controller-7" })
        _ = try SchemaValidator.validate(forwarded)
    }
}

/// `mosquitto_pub`, for publishing as a controller would.
enum Publisher {
    static func publish(
        port: Int, topic: String, payload: String, retain: Bool = false,
        responseTopic: String? = nil, correlationData: String? = nil
    ) throws {
        var arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-t", topic, "-V", "mqttv5"]
        arguments += payload.isEmpty ? ["-n"] : ["-m", payload]
        if retain { arguments.append("-r") }
        if let responseTopic { arguments += ["-D", "publish", "response-topic", responseTopic] }
        if let correlationData { arguments += ["-D", "publish", "correlation-data", correlationData] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_pub")
        process.arguments = arguments
        try process.runWithDefaultSignalMask()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}

/// Templates with a reply pattern: acked by the device's answer, failed when it leaves first.
@Suite(.serialized, .tearsDownFixtures) struct CommandReplyIntegrationTests {
    static let device = CommandIntegrationTests.device

    /// The built-in templates with the TK103-style "position now" (AP00 → UB04) enabled.
    static func templatesFile() throws -> URL {
        let text = try String(contentsOf: PublicFrame.packageRoot.appendingPathComponent("deploy/commands.default.yaml"), encoding: .utf8)
        let enabled = text.replacingOccurrences(
            of: "  positionSingle:\n    - name: tk103\n      enabled: false",
            with: "  positionSingle:\n    - name: tk103\n      enabled: true"
        )
        #expect(enabled != text)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("commands-\(UUID().uuidString).yaml")
        try enabled.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// A bridge with those templates and a tracker logged in to it.
    static func loggedInTracker() async throws -> (BridgeFixture, TrackerClient) {
        let templates = try templatesFile()
        defer { try? FileManager.default.removeItem(at: templates) }
        let fixture = try await BridgeFixture.start { $0.commands = templates.path }
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(CommandIntegrationTests.login)
        try await fixture.waitFor("online") { $0.contains { $0.topic.hasSuffix("/availability") } }
        return (fixture, tracker)
    }

    @Test func replyMatchingTheTemplateAcksTheCommand() async throws {
        let (fixture, tracker) = try await Self.loggedInTracker()
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/\(Self.device)/cmd", payload: #"{"id":"p-1","type":"positionSingle"}"#)
        let frame = String(decoding: await tracker.receive(), as: UTF8.self)
        #expect(frame.hasPrefix("*") && frame.hasSuffix("AP00^") && frame.count == 18, "\(frame)")
        let reply = "*040331141830UB04999999984061825A2934.0133N10627.2544E000.0040331309.6200000000L000000^"
        try tracker.send(reply)
        try await fixture.waitFor("acked") { _ in
            fixture.messages(on: "/cmd/result").contains { $0.json?["status"]?.string == "acked" }
        }
        let statuses = fixture.messages(on: "/cmd/result").compactMap { $0.json }
        #expect(statuses.map { $0["status"]?.string } == ["sent", "acked"])
        #expect(statuses[0]["final"]?.bool == false)
        #expect(statuses[1]["final"]?.bool == true)
        #expect(statuses[1]["device_reply"]?.string == reply)
        // The reply is also a position, published as usual.
        #expect(fixture.messages(on: "/\(Self.device)/position").contains { $0.json?["message_type"]?.string == "UB04" })
        _ = try SchemaValidator.validate(fixture.subscriber.messages.filter { !$0.topic.hasSuffix("/cmd") })
    }

    @Test func deviceLeavingBeforeItsReplyFailsTheCommand() async throws {
        let (fixture, tracker) = try await Self.loggedInTracker()
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/\(Self.device)/cmd", payload: #"{"id":"p-2","type":"positionSingle"}"#)
        let downlink = await tracker.receive()
        #expect(!downlink.isEmpty)
        tracker.shutdownWrite()
        try await fixture.waitFor("failed") { _ in
            fixture.messages(on: "/cmd/result").contains { $0.json?["status"]?.string == "failed" }
        }
        let failed = try #require(fixture.messages(on: "/cmd/result").last?.json)
        #expect(failed["final"]?.bool == true)
        #expect(failed["reason"]?.string != nil)
    }
}
