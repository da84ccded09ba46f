import BridgeServer
import Foundation
import Logging
import Mosquitto
import TestSupport
import Testing

/// A real mosquitto on a free loopback port, a `Bridge` on system-chosen loopback ports with a
/// spool in a temporary directory, and a `mosquitto_sub` watching `<base>/#`.
final class BridgeFixture: @unchecked Sendable {
    // @unchecked: mutated only from the test's own task (start/stop), read after.
    let broker: MosquittoBroker
    let spoolDirectory: URL
    private(set) var bridge: Bridge
    private(set) var runTask: Task<Void, any Error>
    let subscriber: MosquittoSubscriber
    let options: BridgeOptions

    /// - Parameter broker: an existing broker to share (a second instance); a new one otherwise.
    static func start(
        persistence: Bool = false, broker existing: MosquittoBroker? = nil, configure: (inout BridgeOptions) -> Void = { _ in }
    ) async throws -> BridgeFixture {
        let broker = try existing ?? MosquittoBroker(persistence: persistence)
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("cctr-spool-\(UUID().uuidString)")
        var options = BridgeOptions.defaults
        options.mqttURL = [try MQTTURL(broker.url)]
        options.listen = [ListenAddress("tcp://127.0.0.1:0")!, ListenAddress("udp://127.0.0.1:0")!]
        options.metricsListen = ListenAddress("tcp://127.0.0.1:0")!
        options.spoolDir = spool.path
        options.instance = "test"
        options.shutdownTimeout = .seconds(2)
        configure(&options)
        let subscriber = try await MosquittoSubscriber(port: broker.port, topics: ["\(options.topicBase)/#"], retainAsPublished: true)
        let fixture = try await BridgeFixture(broker: broker, spool: spool, subscriber: subscriber, options: options)
        if let registry = FixtureTeardown.registry {
            registry.add(fixture)
        } else {
            Issue.record("BridgeFixture started outside a suite marked .tearsDownFixtures: nothing would stop it")
        }
        // Devices connect after the bridge announced itself, so the reconnect republish of
        // device state does not interleave with a test's own expectations.
        try await fixture.waitFor("bridge online") {
            $0.contains { $0.topic == "\(options.topicBase)/bridge/\(options.instance)/state" && $0.text == "online" }
        }
        return fixture
    }

    private init(broker: MosquittoBroker, spool: URL, subscriber: MosquittoSubscriber, options: BridgeOptions) async throws {
        self.broker = broker
        spoolDirectory = spool
        self.subscriber = subscriber
        self.options = options
        (bridge, runTask) = try await Self.launch(options)
    }

    private static func launch(_ options: BridgeOptions) async throws -> (Bridge, Task<Void, any Error>) {
        var logger = Logger(label: "cctr-bridge-test")
        // CCTR_TEST_LOG_LEVEL=info (or debug) shows the bridges' full logs when chasing a failure.
        logger.logLevel = ProcessInfo.processInfo.environment["CCTR_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let bridge = try Bridge(options: options, logger: logger)
        let task = Task { try await bridge.run(handleSignals: false) }
        await bridge.waitUntilStarted()
        return (bridge, task)
    }

    /// A new bridge process-equivalent on the same spool directory and ports chosen anew.
    func restartBridge() async throws {
        try await stopBridge()
        (bridge, runTask) = try await Self.launch(options)
    }

    var tcpPort: Int { bridge.boundEndpoints.first { $0.transport == .tcp }!.port }
    var udpPort: Int { bridge.boundEndpoints.first { $0.transport == .udp }!.port }

    func stopBridge() async throws {
        bridge.shutdown()
        try await runTask.value
    }

    func tearDown() async {
        bridge.shutdown()
        _ = try? await runTask.value
        subscriber.stop()
        broker.stop()
        try? FileManager.default.removeItem(at: spoolDirectory)
    }

    /// Waits until the messages seen satisfy `condition`; fails the test on timeout.
    @discardableResult
    func waitFor(
        _ description: String, timeout: Duration = .seconds(10),
        _ condition: ([MosquittoSubscriber.Message]) -> Bool
    ) async throws -> [MosquittoSubscriber.Message] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            let messages = subscriber.messages
            if condition(messages) { return messages }
            try await Task.sleep(for: .milliseconds(20))
        }
        let seen = subscriber.messages.map { "\($0.topic) \(String($0.text.prefix(120)))" }.joined(separator: "\n")
        Issue.record("timed out waiting for \(description); saw:\n\(seen)")
        throw CancellationError()
    }

    /// A metric from the bridge's `/metrics`, summed over its labels (0 when absent): tests
    /// wait for a counter to reach what they expect instead of sleeping.
    func metric(_ name: String) async throws -> Double {
        try LoopbackHTTP.metric(name, port: try #require(bridge.healthPort))
    }

    func messages(on suffix: String) -> [MosquittoSubscriber.Message] {
        subscriber.messages.filter { $0.topic.hasSuffix(suffix) }
    }
}

extension MosquittoSubscriber.Message {
    var json: JSONValue? { try? JSONValue.parse(payload) }
}

/// Validates what the bridge published against `schemas/` and the contract's topic rules.
enum SchemaValidator {
    /// `arguments` adds validator options such as `--owntracks-base`.
    @discardableResult
    static func validate(_ messages: [MosquittoSubscriber.Message], base: String = "cctr", arguments: [String] = []) throws -> String {
        let lines = try messages.map { try PayloadScripts.line(topic: $0.topic, payload: $0.payload, qos: $0.qos, retain: $0.retain) }
        let result = try PayloadScripts.validate(lines: lines, arguments: ["--topic-base", base] + arguments)
        #expect(PayloadScripts.allPassed(result, lines: lines.count), "schema validation failed:\n\(result.output)")
        return result.output
    }
}
