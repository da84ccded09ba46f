import Foundation
import Logging
import Mosquitto
import Synchronization
import TestSupport

/// A `MosquittoClient` whose `run()` and event stream are consumed by background tasks, with
/// the events recorded so that tests can wait for them.
final class RunningClient: Sendable {
    struct Timeout: Error, CustomStringConvertible {
        let description: String
    }

    private final class Recorder: Sendable {
        let events = Mutex<[MosquittoEvent]>([])
    }

    let client: MosquittoClient
    private let recorder = Recorder()
    private let runTask: Task<Void, any Error>
    private let eventTask: Task<Void, Never>

    /// - Parameter logger: where the client logs; notices and above on standard output otherwise.
    init(_ configuration: MosquittoClient.Configuration, logger: Logger? = nil) throws {
        var standard = Logger(label: "test.mosquitto")
        standard.logLevel = .notice
        let client = try MosquittoClient(configuration: configuration, logger: logger ?? standard)
        self.client = client
        runTask = Task { try await client.run() }
        eventTask = Task { [recorder] in
            for await event in client.events {
                recorder.events.withLock { $0.append(event) }
            }
        }
    }

    static func configuration(
        broker: MosquittoBroker, clientID: String = "test-\(UUID().uuidString.prefix(8))",
        version: MQTTProtocolVersion = .v5
    ) -> MosquittoClient.Configuration {
        MosquittoClient.Configuration(
            host: "127.0.0.1", port: broker.port, clientID: clientID, protocolVersion: version,
            reconnectBackoff: .init(minimum: .milliseconds(50), maximum: .milliseconds(400))
        )
    }

    var events: [MosquittoEvent] { recorder.events.withLock { $0 } }

    var messages: [IncomingMessage] {
        events.compactMap { if case .message(let message) = $0 { message } else { nil } }
    }

    /// `(protocolVersion, sessionPresent)` of every `.connected` so far.
    var connections: [(MQTTProtocolVersion, Bool)] {
        events.compactMap {
            if case .connected(let version, let sessionPresent, _) = $0 { (version, sessionPresent) } else { nil }
        }
    }

    var disconnections: [MosquittoError?] {
        events.compactMap { if case .disconnected(let reason) = $0 { reason } else { nil } }
    }

    func waitUntil(
        _ what: String, timeout: Duration = .seconds(10), _ condition: @Sendable () -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw Timeout(description: "timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func waitForConnections(_ count: Int, timeout: Duration = .seconds(10)) async throws {
        try await waitUntil("\(count) connection(s)", timeout: timeout) { self.connections.count >= count }
    }

    /// Clean shutdown; returns once `run()` returned and the event stream finished.
    func shutdown() async throws {
        await client.disconnect()
        try await runTask.value
        await eventTask.value
    }
}

/// Runs `mosquitto_pub` against the test broker and waits for it.
func mosquittoPub(port: Int, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_pub")
    process.arguments = ["-h", "127.0.0.1", "-p", "\(port)"] + arguments
    try process.runWithDefaultSignalMask()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw RunningClient.Timeout(description: "mosquitto_pub \(arguments) exited with \(process.terminationStatus)")
    }
}
