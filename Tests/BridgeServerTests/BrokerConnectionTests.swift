import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built bridge against real brokers on loopback: failover across the nodes given as
/// several `--mqtt-url`, and each connection failure told apart in the log and in `/readyz`.
@Suite(.serialized, .tags(.fault)) struct BrokerConnectionTests {
    static func spoolDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("cctr-failover-spool-\(UUID().uuidString)")
    }

    /// Three devices stream while the first of two independent brokers shuts down (SIGTERM:
    /// a node leaving the cluster). The bridge moves to the second at once, and every frame it
    /// accepted reaches a subscriber: on the first broker what it took before it went down (a
    /// persistent session, drained after its restart, since two independent brokers do not
    /// share messages as a cluster would), on the second everything after.
    @Test func bridgeFailsOverToTheNextBrokerWithoutLoss() async throws {
        let first = try MosquittoBroker(persistence: true)
        let second = try MosquittoBroker()
        var onFirst = try await FaultTests.persistentSubscriber(port: first.port, id: "failover-first")
        let onSecond = try await FaultTests.persistentSubscriber(port: second.port, id: "failover-second")
        let spool = Self.spoolDirectory()
        defer { try? FileManager.default.removeItem(at: spool) }
        let bridge = BridgeProcess(arguments: ["--mqtt-url", first.url, "--mqtt-url", second.url, "--spool-dir", spool.path])
        try bridge.start()
        let onFirstReady = try await FaultTests.waitUntil(.seconds(10)) { bridge.readiness?.contains(first.url) == true }
        #expect(onFirstReady, "\(bridge.readiness ?? "no /readyz")")

        let fleet = SequencedFleet(count: 3, prefix: "FOV")
        try fleet.connect(port: bridge.tcpPort)
        var earlier: [MosquittoSubscriber.Message] = []
        for round in 0..<300 {
            if round == 100 {
                first.stop()
                earlier = onFirst.messages
                onFirst.stop()
            }
            fleet.sendRound()
            try await Task.sleep(for: .milliseconds(20))
        }
        let sent = fleet.sent
        let onSecondReady = try await FaultTests.waitUntil(.seconds(10)) { bridge.readiness?.contains(second.url) == true }
        #expect(onSecondReady, "\(bridge.readiness ?? "no /readyz")")
        try first.start()
        onFirst = try await FaultTests.persistentSubscriber(port: first.port, id: "failover-first")
        let drained = onFirst
        _ = try await FaultTests.waitUntil(.seconds(20)) {
            DeliveryReport(messages: earlier + drained.messages + onSecond.messages, sent: sent).missing.isEmpty
        }
        let report = DeliveryReport(messages: earlier + onFirst.messages + onSecond.messages, sent: sent)
        print("failover to the second broker: \(report)")
        #expect(report.sent == 900)
        #expect(report.missing.isEmpty, "\(report.missing)\n\(bridge.log.suffix(3000))")
        #expect(report.outOfOrder.isEmpty, "\(report.outOfOrder)")
        let deliveredAfter = DeliveryReport(messages: onSecond.messages, sent: sent).delivered
        #expect(deliveredAfter > 0, "nothing reached the second broker")
        // The retained info names the broker in use and the protocol.
        let info = onSecond.messages.last { $0.topic == "cctr/bridge/fault/info" }?.json
        #expect(info?["broker"]?.string == second.url, "\(String(describing: info))")
        #expect(info?["mqtt_protocol"]?.string == "5")
        bridge.kill(SIGTERM)
    }

    enum Fault: String, CaseIterable, Sendable {
        case closedPort = "closed port"
        case badCredentials = "bad credentials"
        case wrongPassword = "wrong password"
        case notAuthorized = "not authorized"
        case unknownCA = "unknown CA"

        /// Words only this failure's message has.
        var marker: String {
            switch self {
            case .closedPort: "connection refused"
            case .badCredentials: "bad credentials"
            case .wrongPassword: "not authorized: the broker does not allow user"
            case .notAuthorized: "not authorized: the broker does not allow an anonymous"
            case .unknownCA: "TLS handshake"
            }
        }
    }

    /// Each failure has its own words, logged once while the bridge retries, and `/readyz`
    /// answers 503 with the same words.
    @Test(arguments: Fault.allCases)
    func connectionFailuresAreToldApart(fault: Fault) async throws {
        let passwords = try PasswordFile(user: "bridge", password: "right")
        let certificates = try TestCertificates()
        try certificates.use(.valid)
        let passwordFile = FileManager.default.temporaryDirectory.appendingPathComponent("cctr-pw-\(UUID().uuidString)")
        try "wrong\n".write(to: passwordFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: passwordFile) }
        var broker: MosquittoBroker?
        let arguments: [String]
        let expected: String
        switch fault {
        case .closedPort:
            let port = LoopbackNetwork.freePort()
            arguments = ["--mqtt-url", "mqtt://127.0.0.1:\(port)"]
            expected = "connection refused by 127.0.0.1:\(port): nothing listens on that port"
        case .badCredentials:
            // The listener takes the user from a client certificate, and the bridge has none.
            let running = try MosquittoBroker(settings: certificates.identityAsUsernameSettings)
            broker = running
            arguments = [
                "--mqtt-url", "mqtts://bridge@localhost:\(running.port)", "--mqtt-password-file", passwordFile.path,
                "--mqtt-ca-file", certificates.caFile,
            ]
            expected = "bad credentials: the broker refused the user name or password of user 'bridge'"
        case .wrongPassword:
            let running = try MosquittoBroker(allowAnonymous: false, settings: ["password_file \(passwords.path)"])
            broker = running
            arguments = ["--mqtt-url", "mqtt://bridge@127.0.0.1:\(running.port)", "--mqtt-password-file", passwordFile.path]
            expected = "not authorized: the broker does not allow user 'bridge' to connect"
        case .notAuthorized:
            let running = try MosquittoBroker(allowAnonymous: false)
            broker = running
            arguments = ["--mqtt-url", running.url]
            expected = "not authorized: the broker does not allow an anonymous client"
        case .unknownCA:
            let running = try MosquittoBroker(settings: certificates.brokerSettings)
            broker = running
            arguments = ["--mqtt-url", "mqtts://localhost:\(running.port)", "--mqtt-ca-file", certificates.otherCAFile]
            expected = "TLS handshake with localhost:\(running.port) failed: certificate verify failed"
        }
        let bridge = BridgeProcess(arguments: arguments)
        try bridge.start()
        let retried = try await FaultTests.waitUntil(.seconds(20)) {
            bridge.log.components(separatedBy: "reconnecting to MQTT broker").count > 3
        }
        #expect(retried, "\(bridge.log.suffix(2000))")
        let readiness = bridge.readiness ?? ""
        #expect(readiness.hasPrefix("broker not connected: \(expected)"), "\(readiness)")
        let logged = bridge.log.components(separatedBy: "\n").filter { $0.contains(expected) }
        #expect(logged.count == 1, "\(bridge.log.suffix(3000))")
        for other in Fault.allCases where other != fault {
            #expect(!readiness.contains(other.marker), "\(readiness)")
        }
        bridge.kill(SIGTERM)
        withExtendedLifetime(broker) {}
    }
}
