import Foundation
import Mosquitto
import Synchronization
import Testing
import TestSupport

/// Against a real mosquitto on 127.0.0.1, observed with `mosquitto_sub` / `mosquitto_pub`.
/// Serialized: the suite shares two cores with the brokers it starts.
@Suite("MosquittoClient against a real broker", .serialized, .timeLimit(.minutes(1)))
struct MosquittoClientTests {
    @Test("QoS 1 publish returns after PUBACK and arrives intact", arguments: [MQTTProtocolVersion.v5, .v311])
    func publishQoS1(version: MQTTProtocolVersion) async throws {
        let broker = try MosquittoBroker()
        let subscriber = try await MosquittoSubscriber(
            port: broker.port, topics: ["out/#"], version: version == .v5 ? "mqttv5" : "mqttv311")
        let running = try RunningClient(RunningClient.configuration(broker: broker, version: version))
        try await running.waitForConnections(1)
        #expect(running.connections.first?.0 == version)
        #expect(running.client.isConnected)
        #expect(running.client.protocolVersion == version)

        let payload: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF] + Array("position".utf8)
        try await running.client.publish(topic: "out/a", payload: payload, qos: 1, retain: false)
        let received = try await subscriber.waitForMessages(count: 1)
        #expect(received.count == 1)
        #expect(received.first?.topic == "out/a")
        #expect(received.first?.payload == payload)
        #expect(received.first?.qos == 1)
        #expect(received.first?.retain == false)
        try await running.shutdown()
        #expect(!running.client.isConnected)
        #expect(running.disconnections.count == 1)
        #expect(running.disconnections.first.map { $0 == nil } == true, "clean disconnect has no reason")
    }

    /// The client's socket to the broker, found among this process's descriptors by its
    /// peer, has Nagle's algorithm off: with it on, a burst of publishes waits up to 40 ms for
    /// the broker's delayed acknowledgement.
    @Test("the broker connection sends without Nagle's delay (TCP_NODELAY)")
    func brokerConnectionHasNoDelay() async throws {
        let broker = try MosquittoBroker()
        let running = try RunningClient(RunningClient.configuration(broker: broker))
        try await running.waitForConnections(1)
        let sockets = Self.descriptorsConnected(toPort: broker.port)
        #expect(sockets.count == 1, "expected one connection to the broker, found \(sockets.count)")
        for descriptor in sockets {
            var flag: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            #expect(getsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &flag, &length) == 0)
            #expect(flag == 1, "TCP_NODELAY is off on the broker connection")
        }
        try await running.shutdown()
    }

    /// Descriptors of this process whose TCP peer is 127.0.0.1:`port`.
    static func descriptorsConnected(toPort port: Int) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.compactMap(Int32.init).filter { descriptor in
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(descriptor, $0, &length) }
            }
            return named == 0 && address.sin_family == sa_family_t(AF_INET) && Int(UInt16(bigEndian: address.sin_port)) == port
        }
    }

    @Test("a broker that refuses MQTT 5 gets MQTT 3.1.1")
    func fallsBackToV311() async throws {
        let broker = try FakeV311Broker()
        let running = try RunningClient(MosquittoClient.Configuration(
            host: "127.0.0.1", port: broker.port, clientID: "fallback",
            reconnectBackoff: .init(minimum: .milliseconds(50), maximum: .milliseconds(400))))
        try await running.waitForConnections(1)
        #expect(running.connections.first?.0 == .v311)
        #expect(running.client.protocolVersion == .v311)
        #expect(broker.connectLevels == [5, 4])
        try await running.shutdown()
    }

    static func configuration(port: Int) -> MosquittoClient.Configuration {
        MosquittoClient.Configuration(
            host: "127.0.0.1", port: port, clientID: "fallback",
            reconnectBackoff: .init(minimum: .milliseconds(50), maximum: .milliseconds(400)))
    }

    @Test("a broker that closes an MQTT 5 CONNECT without a CONNACK gets MQTT 3.1.1")
    func fallsBackToV311WhenClosedBeforeConnack() async throws {
        let broker = try FakeV311Broker(silent: true)
        let running = try RunningClient(Self.configuration(port: broker.port))
        try await running.waitForConnections(1)
        #expect(running.connections.first?.0 == .v311)
        #expect(broker.connectLevels == [5, 4])
        try await running.shutdown()
    }

    @Test("with the fallback off, MQTT 5 is retried and 3.1.1 never tried")
    func noFallbackWhenMQTT5IsRequired() async throws {
        let broker = try FakeV311Broker(silent: true)
        var configuration = Self.configuration(port: broker.port)
        configuration.fallsBackToV311 = false
        let running = try RunningClient(configuration)
        try await running.waitUntil("a second attempt") { broker.connectLevels.count >= 2 }
        #expect(broker.connectLevels.allSatisfy { $0 == 5 })
        #expect(running.connections.isEmpty)
        try await running.shutdown()
    }

    @Test("retained message reaches a later subscriber with the retain flag")
    func retainedMessage() async throws {
        let broker = try MosquittoBroker()
        let running = try RunningClient(RunningClient.configuration(broker: broker))
        try await running.waitForConnections(1)
        try await running.client.publish(topic: "state/main", payload: Array("online".utf8), qos: 1, retain: true)
        let subscriber = try await MosquittoSubscriber(port: broker.port, topics: ["state/#"])
        let received = try await subscriber.waitForMessages(count: 1)
        #expect(received.map(\.text) == ["online"])
        #expect(received.first?.retain == true)
        try await running.shutdown()
    }

    @Test("MQTT 5 response topic and correlation data round trip both ways")
    func requestResponseProperties() async throws {
        let broker = try MosquittoBroker()
        let running = try RunningClient(RunningClient.configuration(broker: broker))
        try await running.waitForConnections(1)
        try await running.client.subscribe("cmd/+", qos: 1)

        try mosquittoPub(port: broker.port, [
            "-V", "mqttv5", "-q", "1", "-t", "cmd/dev1", "-m", "reboot",
            "-D", "publish", "response-topic", "reply/here", "-D", "publish", "correlation-data", "abc123",
        ])
        try await running.waitUntil("the command") { !running.messages.isEmpty }
        let command = try #require(running.messages.first)
        #expect(command.topic == "cmd/dev1")
        #expect(command.payload == Array("reboot".utf8))
        #expect(command.qos == 1)
        #expect(command.retain == false)
        #expect(command.responseTopic == "reply/here")
        #expect(command.correlationData == Array("abc123".utf8))

        let subscriber = try await MosquittoSubscriber(port: broker.port, topics: ["reply/#"])
        try await running.client.publish(
            topic: try #require(command.responseTopic), payload: Array("done".utf8), qos: 1, retain: false,
            properties: PublishProperties(responseTopic: "back/again", correlationData: command.correlationData))
        let reply = try #require(try await subscriber.waitForMessages(count: 1).first)
        #expect(reply.text == "done")
        #expect(reply.responseTopic == "back/again")
        #expect(reply.correlationData == Array("abc123".utf8))
        try await running.shutdown()
    }

    @Test("under MQTT 3.1.1 properties are dropped and subscriptions still work")
    func propertiesUnderV311() async throws {
        let broker = try MosquittoBroker()
        let running = try RunningClient(RunningClient.configuration(broker: broker, version: .v311))
        try await running.waitForConnections(1)
        try await running.client.subscribe("cmd/#", qos: 1)
        try mosquittoPub(port: broker.port, [
            "-V", "mqttv5", "-q", "1", "-t", "cmd/x", "-m", "hi", "-D", "publish", "response-topic", "r",
        ])
        try await running.waitUntil("the message") { !running.messages.isEmpty }
        #expect(running.messages.first?.payload == Array("hi".utf8))
        #expect(running.messages.first?.responseTopic == nil)

        let subscriber = try await MosquittoSubscriber(port: broker.port, topics: ["out"])
        try await running.client.publish(
            topic: "out", payload: [1], qos: 1, retain: false, properties: PublishProperties(responseTopic: "r"))
        let received = try await subscriber.waitForMessages(count: 1)
        #expect(received.first?.payload == [1])
        #expect(received.first?.responseTopic == nil)
        try await running.shutdown()
    }

    @Test("the last will is published when the connection drops without DISCONNECT, not on a clean disconnect")
    func lastWill() async throws {
        let broker = try MosquittoBroker()
        let subscriber = try await MosquittoSubscriber(port: broker.port, topics: ["bridge/main/state"])
        var configuration = RunningClient.configuration(broker: broker)
        configuration.lastWill = .init(topic: "bridge/main/state", payload: Array("offline".utf8), qos: 1, retain: true)
        let running = try RunningClient(configuration)
        try await running.waitForConnections(1)
        try await running.client.publish(topic: "bridge/main/state", payload: Array("online".utf8), qos: 1, retain: true)

        // The socket dies as on a network failure or crash: the broker must publish the will.
        #expect(LoopbackNetwork.severConnections(toPort: broker.port) == 1)
        let afterDrop = try await subscriber.waitForMessages(count: 2)
        #expect(afterDrop.map(\.text) == ["online", "offline"])
        // The broker may publish the will before this client's loop thread notices the loss.
        try await running.waitUntil("the disconnection") { !running.disconnections.isEmpty }
        #expect(running.disconnections.count == 1)
        #expect(running.disconnections.first.map { $0 != nil } == true, "a dropped connection has a reason")

        try await running.waitForConnections(2)
        try await running.client.publish(topic: "bridge/main/state", payload: Array("online".utf8), qos: 1, retain: true)
        try await running.shutdown()
        // The broker has handled the DISCONNECT before another client's publish (it arrived
        // first, on a connection already closed): a will would come before this marker.
        try mosquittoPub(port: broker.port, ["-t", "bridge/main/state", "-m", "marker", "-q", "1"])
        _ = try await subscriber.waitForMessages(count: 4)
        #expect(subscriber.messages.map(\.text) == ["online", "offline", "online", "marker"], "no will after DISCONNECT")
    }

    @Test("broker killed and restarted: the client reconnects, re-subscribes and publishes again")
    func brokerRestart() async throws {
        let broker = try MosquittoBroker()
        let running = try RunningClient(RunningClient.configuration(broker: broker))
        try await running.waitForConnections(1)
        try await running.client.subscribe("cmd/#", qos: 1)

        broker.kill()
        try await running.waitUntil("the disconnection") { running.disconnections.count == 1 }
        #expect(!running.client.isConnected)
        let whileDown = await failure(of: { () async throws(MosquittoError) in
            try await running.client.publish(topic: "out", payload: [1], qos: 1, retain: false)
        })
        #expect(whileDown?.kind == .notConnected)

        try broker.start()
        try await running.waitForConnections(2)
        #expect(running.connections.last?.1 == false, "the killed broker lost the session")

        try mosquittoPub(port: broker.port, ["-q", "1", "-t", "cmd/after-restart", "-m", "x"])
        try await running.waitUntil("a message on the re-sent subscription") {
            running.messages.contains { $0.topic == "cmd/after-restart" }
        }
        let subscriber = try await MosquittoSubscriber(port: broker.port, topics: ["out"])
        try await running.client.publish(topic: "out", payload: [2], qos: 1, retain: false)
        #expect(try await subscriber.waitForMessages(count: 1).map(\.payload) == [[2]])
        try await running.shutdown()
    }

    @Test("the persistent session survives a broker restart (MQTT 5 session expiry, 3.1.1 clean_session=false)",
          arguments: [MQTTProtocolVersion.v5, .v311])
    func persistentSession(version: MQTTProtocolVersion) async throws {
        let broker = try MosquittoBroker(persistence: true)
        let running = try RunningClient(RunningClient.configuration(broker: broker, version: version))
        try await running.waitForConnections(1)
        #expect(running.connections.first?.1 == false, "a new session")
        try await running.client.publish(topic: "state", payload: Array("kept".utf8), qos: 1, retain: true)

        try broker.restart()
        try await running.waitForConnections(2)
        #expect(running.connections.last?.1 == true, "the broker kept the session")
        let subscriber = try await MosquittoSubscriber(port: broker.port, topics: ["state"])
        #expect(try await subscriber.waitForMessages(count: 1).map(\.text) == ["kept"])
        try await running.shutdown()
    }

    @Test("broker unreachable at start: run() keeps retrying and connects once it starts")
    func brokerUnreachableAtStart() async throws {
        let broker = try MosquittoBroker()
        broker.stop()
        let running = try RunningClient(RunningClient.configuration(broker: broker))
        // The behaviour under test: run() keeps failing to connect for a while (it retries
        // with backoff) and reports no event for a failed attempt, so a quiet period is the check.
        try await Task.sleep(for: .milliseconds(700))
        #expect(running.connections.isEmpty)
        let early = await failure(of: { () async throws(MosquittoError) in
            try await running.client.publish(topic: "out", payload: [1], qos: 0, retain: false)
        })
        #expect(early?.kind == .notConnected)

        try broker.start()
        try await running.waitForConnections(1, timeout: .seconds(5))
        try await running.client.publish(topic: "out", payload: [1], qos: 1, retain: false)
        try await running.shutdown()
    }

    @Test("QoS 1 messages in flight when the connection drops are re-sent and complete")
    func inFlightSurviveConnectionLoss() async throws {
        let broker = try MosquittoBroker()
        let subscriber = try await MosquittoSubscriber(port: broker.port, topics: ["burst"])
        let running = try RunningClient(RunningClient.configuration(broker: broker))
        try await running.waitForConnections(1)

        let count = 3000
        let tally = Tally()
        for index in 0..<count {
            running.client.publish(topic: "burst", payload: Array("\(index)".utf8), qos: 1, retain: false) {
                tally.record($0)
            }
        }
        let severed = LoopbackNetwork.severConnections(toPort: broker.port)
        let acknowledgedBeforeDrop = tally.successes
        #expect(severed == 1)
        try await running.waitUntil("all completions", timeout: .seconds(20)) { tally.total == count }
        #expect(tally.failures == 0)
        #expect(tally.successes == count)
        // The reconnect's event may arrive after the last completion: wait for it.
        try await running.waitForConnections(2, timeout: .seconds(10))
        // Duplicates count towards `count` messages: wait for every distinct one instead.
        _ = try await eventually { Set(subscriber.messages.map(\.text)).count == count }
        let received = subscriber.messages
        #expect(Set(received.map(\.text)).count == count, "every message arrived (duplicates allowed)")
        print("in flight at the drop: \(count - acknowledgedBeforeDrop) of \(count); delivered \(received.count) (with duplicates)")
        try await running.shutdown()
    }

    /// A frozen broker (SIGSTOP) reads nothing: the socket buffers fill and neither PUBACKs nor
    /// the DISCONNECT get through. The stop still ends by the deadline, and every open publish
    /// completes (with `.shutdown`).
    @Test("a stop with a deadline ends by it although the broker is frozen")
    func shutdownDeadlineWithFrozenBroker() async throws {
        let broker = try MosquittoBroker()
        let running = try RunningClient(RunningClient.configuration(broker: broker))
        try await running.waitForConnections(1)
        broker.pause()
        defer { broker.resume() }
        let count = 2000
        let tally = Tally()
        let payload = [UInt8](repeating: 0x41, count: 16 << 10)
        for _ in 0..<count {
            running.client.publish(topic: "frozen", payload: payload, qos: 1, retain: false) { tally.record($0) }
        }
        let start = ContinuousClock.now
        running.client.setShutdownDeadline(start + .seconds(1))
        try await running.shutdown()
        let elapsed = ContinuousClock.now - start
        print("frozen broker: stop with a 1 s deadline took \(elapsed)")
        // Without the deadline the stop waits for keep-alive (far longer); the slack above 1 s
        // is for a loaded machine running other suites beside this one.
        #expect(elapsed < .milliseconds(2500))
        #expect(tally.total == count && tally.successes == 0)
    }

    @Test("5,000 QoS 1 publishes through the completion API all complete and all arrive")
    func fiveThousandQoS1() async throws {
        let broker = try MosquittoBroker()
        let subscriber = try await MosquittoSubscriber(port: broker.port, topics: ["load"])
        let running = try RunningClient(RunningClient.configuration(broker: broker))
        try await running.waitForConnections(1)

        let count = 5000
        let tally = Tally()
        let payload = [UInt8](repeating: 0x61, count: 240)
        let start = ContinuousClock.now
        for index in 0..<count {
            running.client.publish(topic: "load", payload: Array("\(index):".utf8) + payload, qos: 1, retain: false) {
                tally.record($0)
            }
        }
        try await running.waitUntil("all completions", timeout: .seconds(30)) { tally.total == count }
        let elapsed = ContinuousClock.now - start
        #expect(tally.successes == count)
        let received = try await subscriber.waitForMessages(count: count, timeout: .seconds(20))
        #expect(received.count == count)
        #expect(Set(received.map { $0.text.prefix { $0 != ":" } }).count == count)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("QoS 1 completion API: \(count) acknowledged in \(elapsed), \(Int(Double(count) / seconds)) msg/s")
        try await running.shutdown()
    }

    @Test("disconnect() drains, ends run() and the event stream; later publishes fail with .shutdown")
    func gracefulShutdown() async throws {
        let broker = try MosquittoBroker()
        let running = try RunningClient(RunningClient.configuration(broker: broker, clientID: "graceful"))
        try await running.waitForConnections(1)
        let tally = Tally()
        for _ in 0..<200 {
            running.client.publish(topic: "drain", payload: [1], qos: 1, retain: false) { tally.record($0) }
        }
        try await running.shutdown()
        #expect(tally.successes == 200, "in-flight messages were acknowledged before DISCONNECT")
        let after = await failure(of: { () async throws(MosquittoError) in
            try await running.client.publish(topic: "out", payload: [1], qos: 1, retain: false)
        })
        #expect(after?.kind == .shutdown)
        #expect(running.disconnections.count == 1)
        #expect(running.disconnections.first.map { $0 == nil } == true)
        #expect(broker.log.contains("Client graceful disconnected."), "the broker saw DISCONNECT")
    }

    @Test("invalid arguments fail without touching the network")
    func invalidArguments() async throws {
        #expect(throws: MosquittoError.self) {
            try MosquittoClient(configuration: .init(host: "127.0.0.1", clientID: ""), logger: .init(label: "t"))
        }
        let broker = try MosquittoBroker()
        let running = try RunningClient(RunningClient.configuration(broker: broker))
        try await running.waitForConnections(1)
        let badTopic = await failure(of: { () async throws(MosquittoError) in
            try await running.client.publish(topic: "a/+", payload: [], qos: 1, retain: false)
        })
        #expect(badTopic?.kind == .invalidArgument)
        let badQoS = await failure(of: { () async throws(MosquittoError) in
            try await running.client.subscribe("a/#", qos: 3)
        })
        #expect(badQoS?.kind == .invalidArgument)
        try await running.shutdown()
    }
}

/// Counts publish completions from the loop thread.
final class Tally: Sendable {
    private let counts = Mutex<(successes: Int, failures: Int)>((0, 0))

    func record(_ result: Result<Void, MosquittoError>) {
        counts.withLock {
            switch result {
            case .success: $0.successes += 1
            case .failure: $0.failures += 1
            }
        }
    }

    var successes: Int { counts.withLock { $0.successes } }
    var failures: Int { counts.withLock { $0.failures } }
    var total: Int { counts.withLock { $0.successes + $0.failures } }
}

/// The error `body` throws, `nil` if it succeeds.
func failure(of body: () async throws(MosquittoError) -> Void) async -> MosquittoError? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}
