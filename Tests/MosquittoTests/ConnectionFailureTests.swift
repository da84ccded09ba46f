import Foundation
import Logging
import Mosquitto
import Testing
import TestSupport

/// Every way a connection to a real mosquitto can fail is said in its own words: in the log,
/// once per reason rather than on every retry, and in `lastFailure` (what `/readyz` shows).
@Suite("connection failures in words", .serialized, .timeLimit(.minutes(2)))
struct ConnectionFailureTests {
    static func configuration(
        host: String = "127.0.0.1", port: Int, username: String? = nil, password: String? = nil,
        tls: MosquittoClient.Configuration.TLS? = nil, version: MQTTProtocolVersion = .v5
    ) -> MosquittoClient.Configuration {
        var configuration = MosquittoClient.Configuration(
            host: host, port: port, clientID: "failure-\(UUID().uuidString.prefix(8))", username: username,
            password: password, tls: tls, protocolVersion: version,
            reconnectBackoff: .init(minimum: .milliseconds(50), maximum: .milliseconds(100)))
        configuration.fallsBackToV311 = false
        return configuration
    }

    /// Waits until the client failed at least `attempts` times with a failure containing
    /// `text` (the first logged at warning or above, repeats at debug), and returns the log.
    static func failures(
        _ running: RunningClient, _ log: LogCapture, containing text: String, attempts: Int = 4
    ) async throws -> [LogCapture.Line] {
        do {
            try await running.waitUntil("\(attempts) failures saying '\(text)'") {
                log.lines(containing: "cannot connect to MQTT broker").filter { $0.message.contains(text) }.count >= attempts
            }
        } catch {
            throw RunningClient.Timeout(description: "\(error); log: \(log.lines.map(\.message))")
        }
        return log.lines(containing: "cannot connect to MQTT broker")
    }

    @Test func nothingListeningIsConnectionRefused() async throws {
        let port = LoopbackNetwork.freePort()
        let log = LogCapture()
        let running = try RunningClient(Self.configuration(port: port), logger: log.logger)
        let lines = try await Self.failures(running, log, containing: "connection refused by 127.0.0.1:\(port)")
        #expect(lines.filter { $0.level >= .warning }.count == 1, "\(lines.map(\.message))")
        #expect(running.client.lastFailure?.message.contains("nothing listens on that port") == true)
        try await running.shutdown()
    }

    /// Mosquitto sends "bad user name or password" when a listener takes the user from the
    /// client certificate and the client has none.
    @Test("refused credentials are bad credentials", arguments: [MQTTProtocolVersion.v5, .v311])
    func refusedCredentialsAreBadCredentials(version: MQTTProtocolVersion) async throws {
        let certificates = try TestCertificates()
        try certificates.use(.valid)
        let broker = try MosquittoBroker(settings: certificates.identityAsUsernameSettings)
        let log = LogCapture()
        let running = try RunningClient(
            Self.configuration(
                host: "localhost", port: broker.port, username: "bridge", password: "secret",
                tls: .init(caFile: certificates.caFile), version: version),
            logger: log.logger)
        let lines = try await Self.failures(running, log, containing: "bad credentials")
        #expect(lines.filter { $0.level >= .warning }.count == 1, "\(lines.map(\.message))")
        let failure = try #require(running.client.lastFailure)
        #expect(failure.kind == .connectionRefused)
        #expect(failure.code == (version == .v5 ? 0x86 : 4))
        #expect(failure.message.contains("user 'bridge'") && !failure.message.contains("not authorized"))
        try await running.shutdown()
    }

    /// Mosquitto 2.0 answers a wrong password with "not authorized", not "bad user name or
    /// password"; the message names the user and says so.
    @Test("a wrong password is not authorized by Mosquitto", arguments: [MQTTProtocolVersion.v5, .v311])
    func wrongPasswordIsNotAuthorized(version: MQTTProtocolVersion) async throws {
        let passwords = try PasswordFile(user: "bridge", password: "right")
        let broker = try MosquittoBroker(allowAnonymous: false, settings: ["password_file \(passwords.path)"])
        let log = LogCapture()
        let running = try RunningClient(
            Self.configuration(port: broker.port, username: "bridge", password: "wrong", version: version), logger: log.logger)
        let lines = try await Self.failures(running, log, containing: "not authorized")
        #expect(lines.filter { $0.level >= .warning }.count == 1, "\(lines.map(\.message))")
        let failure = try #require(running.client.lastFailure)
        #expect(failure.code == (version == .v5 ? 0x87 : 5))
        #expect(failure.message.contains("user 'bridge'") && failure.message.contains("check the password"))
        #expect(!failure.message.contains("bad credentials"))
        try await running.shutdown()
    }

    @Test("an anonymous login the broker does not allow is not authorized", arguments: [MQTTProtocolVersion.v5, .v311])
    func anonymousIsNotAuthorized(version: MQTTProtocolVersion) async throws {
        let broker = try MosquittoBroker(allowAnonymous: false)
        let log = LogCapture()
        let running = try RunningClient(Self.configuration(port: broker.port, version: version), logger: log.logger)
        let lines = try await Self.failures(running, log, containing: "not authorized")
        #expect(lines.filter { $0.level >= .warning }.count == 1, "\(lines.map(\.message))")
        let failure = try #require(running.client.lastFailure)
        #expect(failure.code == (version == .v5 ? 0x87 : 5))
        #expect(failure.message.contains("anonymous") && !failure.message.contains("bad credentials"))
        try await running.shutdown()
    }

    /// The broker presents an expired certificate, then (restarted) one for another host, then
    /// a valid one: each reason is logged once however often the client retries, a new reason
    /// is logged again, and the valid certificate connects.
    @Test func tlsFailuresSayWhyOncePerReason() async throws {
        let certificates = try TestCertificates()
        try certificates.use(.expired)
        let broker = try MosquittoBroker(settings: certificates.brokerSettings)
        let log = LogCapture()
        let running = try RunningClient(
            Self.configuration(host: "localhost", port: broker.port, tls: .init(caFile: certificates.caFile)), logger: log.logger)

        var lines = try await Self.failures(running, log, containing: "certificate has expired")
        #expect(lines.filter { $0.level >= .warning }.count == 1, "\(lines.map(\.message))")
        #expect(lines.allSatisfy { $0.message.contains("TLS handshake with localhost:\(broker.port) failed: certificate verify failed") })
        #expect(running.client.lastFailure?.message.contains("certificate has expired") == true)

        try certificates.use(.otherHost)
        try broker.restart()
        lines = try await Self.failures(running, log, containing: "host name mismatch")
        // An attempt during the restart may fail in a third way (the broker closing mid-handshake).
        let warnings = lines.filter { $0.level >= .warning }.map(\.message)
        #expect(warnings.filter { $0.contains("certificate has expired") }.count == 1, "\(warnings)")
        #expect(warnings.filter { $0.contains("host name mismatch") }.count == 1, "\(warnings)")
        #expect(warnings.last?.contains("not issued for 'localhost'") == true, "\(warnings)")

        try certificates.use(.valid)
        try broker.restart()
        try await running.waitForConnections(1, timeout: .seconds(20))
        #expect(running.client.lastFailure == nil)
        try await running.shutdown()
    }

    @Test func anUnknownCAIsCertificateVerifyFailed() async throws {
        let certificates = try TestCertificates()
        try certificates.use(.valid)
        let broker = try MosquittoBroker(settings: certificates.brokerSettings)
        let log = LogCapture()
        let running = try RunningClient(
            Self.configuration(host: "localhost", port: broker.port, tls: .init(caFile: certificates.otherCAFile)),
            logger: log.logger)
        let lines = try await Self.failures(running, log, containing: "certificate verify failed")
        #expect(lines.filter { $0.level >= .warning }.count == 1, "\(lines.map(\.message))")
        #expect(!log.lines.contains { $0.message.contains("A TLS error occurred") })
        try await running.shutdown()
    }
}
