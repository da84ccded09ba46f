import BridgeServer
import Foundation
import TestSupport
import Testing

/// Home Assistant discovery, OwnTracks output and `cctr-bridge forget` against a real
/// mosquitto, with fake trackers on loopback sockets.
@Suite(.serialized, .tearsDownFixtures) struct IntegrationOutputsTests {
    static let device = "CC8011400042499"
    static let login = "*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^"
    static let noFix = "*170821223121UD00061825V0000.0000N00000.0000E000.0040331309.62^"
    static let later = "*161101144927UD00144927A1203.5394S07657.7255W000.4161101255.0011111111L022043^"
    static let older = "*150101120000UD00120000A1203.5394S07657.7255W000.4150101255.0011111111L000001^"
    static let configTopic = "homeassistant/device/cctr_CC8011400042499/config"

    static func start() async throws -> BridgeFixture {
        try await BridgeFixture.start { options in
            options.haDiscovery = true
            options.owntracksBase = "owntracks"
            options.devices = [device: DeviceOverride(name: "Van 42")]
        }
    }

    /// What a subscriber connecting now receives (retained messages). The broker sends them
    /// as it handles the subscription, so they all come before a marker published after it.
    static func retained(port: Int, topics: [String]) async throws -> [MosquittoSubscriber.Message] {
        let subscriber = try await MosquittoSubscriber(port: port, topics: topics)
        defer { subscriber.stop() }
        let marker = String(topics[0].dropLast()) + "test-marker-\(UUID().uuidString)"
        try publish(port: port, topic: marker, payload: "marker")
        #expect(try await eventually { subscriber.messages.contains { $0.topic == marker } }, "no marker on \(marker)")
        return subscriber.messages.prefix { $0.topic != marker }.map { $0 }
    }

    static func wait(
        _ description: String, on subscriber: MosquittoSubscriber, timeout: Duration = .seconds(10),
        _ condition: ([MosquittoSubscriber.Message]) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if condition(subscriber.messages) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for \(description); saw: \(subscriber.messages.map(\.topic))")
        throw CancellationError()
    }

    @Test func discoveryIsRetainedAfterLoginAndRepublishedWhenHomeAssistantComesOnline() async throws {
        let fixture = try await Self.start()
        // The device's positions come to the watcher too: in one stream with the documents,
        // a position marks that everything the bridge published before it has arrived.
        let positionTopic = "cctr/\(Self.device)/position"
        let watcher = try await MosquittoSubscriber(
            port: fixture.broker.port, topics: ["homeassistant/#", positionTopic], retainAsPublished: true)
        defer { watcher.stop() }
        #expect(watcher.messages.isEmpty, "nothing before a device comes online")

        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(Self.login)
        try await Self.wait("discovery", on: watcher) { $0.contains { $0.topic == Self.configTopic } }
        let retained = try await Self.retained(port: fixture.broker.port, topics: ["homeassistant/#"])
        let document = try #require(retained.first { $0.topic == Self.configTopic })
        #expect(document.retain && document.qos == 1)
        #expect(document.json?["dev"]?["name"]?.string == "Van 42")
        _ = try SchemaValidator.validate([document])

        // A second session of the same device in this process does not publish it again.
        let second = try TrackerClient(tcpPort: fixture.tcpPort)
        try second.send(Self.login + Self.noFix)
        try await Self.wait("the position after the second login", on: watcher) { $0.filter { $0.topic == positionTopic }.count == 3 }
        #expect(watcher.messages.filter { $0.topic == Self.configTopic }.count == 1)

        // Home Assistant restarts and announces itself.
        try Self.publish(port: fixture.broker.port, topic: "homeassistant/status", payload: "online")
        try await Self.wait("republished discovery", on: watcher) { $0.filter { $0.topic == Self.configTopic }.count == 2 }
        #expect(watcher.messages.filter { $0.topic == Self.configTopic }.allSatisfy { $0.retain })
        try Self.publish(port: fixture.broker.port, topic: "homeassistant/status", payload: "offline")
        // An absence check with no later event to wait for (a Home Assistant message and a
        // device frame are handled on different threads): a quiet period.
        try await Task.sleep(for: .milliseconds(300))
        #expect(watcher.messages.filter { $0.topic == Self.configTopic }.count == 2, "offline does not republish")
    }

    @Test func ownTracksGetsValidFixesOnlyAndNeverAnOlderOne() async throws {
        let fixture = try await Self.start()
        // Positions come to the watcher too: a location follows its position, so once the
        // position of a last fix-less frame is in, every location before it is.
        let positionTopic = "cctr/\(Self.device)/position"
        let watcher = try await MosquittoSubscriber(
            port: fixture.broker.port, topics: ["owntracks/#", positionTopic], retainAsPublished: true)
        defer { watcher.stop() }
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        for frame in [Self.login, Self.noFix, Self.later, Self.older, Self.noFix] {
            try tracker.send(frame)
        }
        try await Self.wait("five positions", on: watcher) { $0.filter { $0.topic == positionTopic }.count == 5 }
        let locations = watcher.messages.filter { $0.topic != positionTopic }
        #expect(locations.map(\.topic) == ["owntracks/\(Self.device)", "owntracks/\(Self.device)"])
        #expect(locations.map { $0.json?["tst"]?.number } == [1_439_827_374, 1_478_011_767])
        #expect(locations.allSatisfy { $0.retain && $0.qos == 1 })
        #expect(locations.last?.json?["tid"]?.string == "99")
        let retained = try await Self.retained(port: fixture.broker.port, topics: ["owntracks/#"])
        #expect(retained.map { $0.json?["tst"]?.number } == [1_478_011_767])
        _ = try SchemaValidator.validate(locations + fixture.subscriber.messages, arguments: ["--owntracks-base", "owntracks"])
    }

    @Test func forgetClearsEveryRetainedTopicOfTheDevice() async throws {
        let fixture = try await Self.start()
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(Self.login)
        let all = ["cctr/#", "homeassistant/#", "owntracks/#"]
        let port = fixture.broker.port
        let expected: Set = [
            "cctr/\(Self.device)/position", "cctr/\(Self.device)/status", "cctr/\(Self.device)/availability",
            "owntracks/\(Self.device)", Self.configTopic,
        ]
        var before: Set<String> = []
        for _ in 0..<20 where !before.isSuperset(of: expected) {
            before = Set(try await Self.retained(port: port, topics: all).map(\.topic))
        }
        #expect(before.isSuperset(of: expected))
        try await fixture.stopBridge()

        let result = try Self.runBridge([
            "forget", Self.device, "--mqtt-url", fixture.broker.url, "--instance", "test",
            "--ha-discovery", "--owntracks-base", "owntracks",
        ])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        #expect(Set(result.output.split(separator: "\n").map { String($0) }) == Set(expected.map { "cleared \($0)" }))
        let after = try await Self.retained(port: port, topics: all)
        #expect(after.filter { $0.topic.contains(Self.device) }.isEmpty, "left: \(after.map(\.topic))")
        #expect(after.contains { $0.topic == "cctr/bridge/test/state" }, "the bridge's own topics stay")
    }

    /// `forget` while the bridge runs: the running bridge drops the device's last retained
    /// fix time and its Home Assistant document, so the device's next valid fix is retained
    /// (even an older one) and its discovery document is published again.
    @Test func forgetKeepsARunningBridgeConsistent() async throws {
        let fixture = try await Self.start()
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(Self.login)
        try tracker.send(Self.later)
        try await fixture.waitFor("the later fix retained") { messages in
            messages.contains { $0.topic == "cctr/\(Self.device)/position" && $0.retain && $0.text.contains("2016-11-01") }
        }
        let result = try Self.runBridge([
            "forget", Self.device, "--mqtt-url", fixture.broker.url, "--instance", "test", "--ha-discovery",
        ])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        let watcher = try await MosquittoSubscriber(
            port: fixture.broker.port, topics: ["cctr/\(Self.device)/position", Self.configTopic], retainAsPublished: true)
        defer { watcher.stop() }
        // The announcement reaches the bridge through the broker. Then an older fix than the
        // deleted one is retained, and a new session of the device gets its document again.
        try await fixture.waitFor("the forget announcement") { $0.contains { $0.topic == "cctr/bridge/forget" } }
        try tracker.send(Self.older)
        try await Self.wait("the older fix retained", on: watcher) { messages in
            messages.contains { $0.topic.hasSuffix("/position") && $0.retain && $0.text.contains("2015-01-01") }
        }
        tracker.shutdownWrite()
        let again = try TrackerClient(tcpPort: fixture.tcpPort)
        try again.send(Self.login)
        try await Self.wait("the document again", on: watcher) { messages in
            messages.contains { $0.topic == Self.configTopic && !$0.payload.isEmpty }
        }
    }

    @Test func forgetRefusesABadIDWithExitCode2() throws {
        for id in ["bridge", "a/b", "x+", ""] {
            let result = try Self.runBridge(["forget", id, "--mqtt-url", "mqtt://127.0.0.1:1"])
            #expect(result.status == 2, "\(id): \(result.errors)")
        }
    }

    // MARK: - Helpers

    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    /// The `cctr-bridge` executable SwiftPM built next to the test bundle.
    static func bridgeExecutable() throws -> URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL,
            Bundle.main.bundleURL.deletingLastPathComponent(),
        ].map { $0.appendingPathComponent("cctr-bridge") }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: candidates.map(\.path).joined(separator: ", ")])
        }
        return found
    }

    static func runBridge(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = try bridgeExecutable()
        process.arguments = arguments
        // A clean environment: no CCTR_* variable of the test's shell leaks in.
        process.environment = ["PATH": "/usr/bin:/bin"]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.runWithDefaultSignalMask()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: text, errors: errorText)
    }

    static func publish(port: Int, topic: String, payload: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_pub")
        process.arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-t", topic, "-m", payload]
        try process.runWithDefaultSignalMask()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
