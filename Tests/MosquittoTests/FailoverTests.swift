import Foundation
import Mosquitto
import Testing
import TestSupport

/// A client given several brokers (the nodes of a cluster) moves to the next one when its
/// connection is lost or an attempt fails, without the backoff delay until a whole round of
/// brokers failed.
@Suite("failover across brokers", .serialized, .timeLimit(.minutes(1)))
struct FailoverTests {
    static func configuration(ports: [Int]) -> MosquittoClient.Configuration {
        var configuration = MosquittoClient.Configuration(
            host: "127.0.0.1", port: ports[0], clientID: "failover-\(UUID().uuidString.prefix(8))",
            reconnectBackoff: .init(minimum: .milliseconds(200), maximum: .milliseconds(400)))
        configuration.brokers = ports.map { BrokerAddress(host: "127.0.0.1", port: $0) }
        return configuration
    }

    @Test func aLostBrokerIsReplacedByTheNextWithoutWaiting() async throws {
        let first = try MosquittoBroker()
        let second = try MosquittoBroker()
        let subscriber = try await MosquittoSubscriber(port: second.port, topics: ["out/#"])
        let log = LogCapture()
        let running = try RunningClient(Self.configuration(ports: [first.port, second.port]), logger: log.logger)
        try await running.waitForConnections(1)
        #expect(running.client.connectedBroker == BrokerAddress(host: "127.0.0.1", port: first.port))
        try await running.client.subscribe("in/#", qos: 1)

        first.kill()
        try await running.waitForConnections(2)
        #expect(running.client.connectedBroker == BrokerAddress(host: "127.0.0.1", port: second.port))
        // One broker lost is not a failed round: no backoff delay before the next broker.
        #expect(log.lines(containing: "reconnecting to MQTT broker").isEmpty, "\(log.lines.map(\.message))")
        #expect(!log.lines(containing: "trying the next MQTT broker").isEmpty)

        try await running.client.publish(topic: "out/after", payload: Array("x".utf8), qos: 1, retain: false)
        #expect(try await subscriber.waitForMessages(count: 1).first?.topic == "out/after")
        // The subscription is re-sent to the new broker.
        try mosquittoPub(port: second.port, ["-t", "in/cmd", "-m", "hello", "-q", "1"])
        try await running.waitUntil("the command from the second broker") { running.messages.contains { $0.topic == "in/cmd" } }
        try await running.shutdown()
    }

    @Test func anUnreachableFirstBrokerIsSkipped() async throws {
        let closed = LoopbackNetwork.freePort()
        let broker = try MosquittoBroker()
        let log = LogCapture()
        let running = try RunningClient(Self.configuration(ports: [closed, broker.port]), logger: log.logger)
        try await running.waitForConnections(1)
        #expect(running.client.connectedBroker?.port == broker.port)
        #expect(log.lines(containing: "connection refused by 127.0.0.1:\(closed)", atLeast: .warning).count == 1)
        try await running.shutdown()
    }

    /// With every broker down the client waits the backoff after each round, then connects
    /// to whichever broker comes back.
    @Test func aFailedRoundWaitsTheBackoffThenRetriesEveryBroker() async throws {
        let first = try MosquittoBroker()
        let second = try MosquittoBroker()
        first.stop()
        second.stop()
        let log = LogCapture()
        let running = try RunningClient(Self.configuration(ports: [first.port, second.port]), logger: log.logger)
        try await running.waitUntil("two failed rounds") { log.lines(containing: "reconnecting to MQTT broker").count >= 2 }
        for port in [first.port, second.port] {
            #expect(log.lines(containing: "connection refused by 127.0.0.1:\(port)", atLeast: .warning).count == 1)
        }
        try second.start()
        try await running.waitForConnections(1)
        #expect(running.client.connectedBroker?.port == second.port)
        try await running.shutdown()
    }
}
