import Logging
import Mosquitto

/// Starts a `MosquittoClient` and waits for its first connection. Benchmarks want a clean,
/// short-lived MQTT 3.1.1 session, not the bridge's persistent one.
struct BenchClient {
    let client: MosquittoClient
    /// The client's events after `.connected`; a single consumer may iterate it.
    let events: AsyncStream<MosquittoEvent>
    private let runner: Task<Void, Error>

    static func connect(_ broker: BrokerOptions, clientID: String) async throws -> BenchClient {
        var configuration = MosquittoClient.Configuration(host: broker.host, port: broker.port, clientID: clientID)
        configuration.protocolVersion = .v311
        configuration.cleanStart = true
        configuration.maxInflight = PublishCommand.bridgeWindow
        var logger = Logger(label: "cctr-bench")
        logger.logLevel = .warning
        let client = try MosquittoClient(configuration: configuration, logger: logger)
        let runner = Task { try await client.run() }
        for await event in client.events {
            if case .connected = event {
                return BenchClient(client: client, events: client.events, runner: runner)
            }
        }
        throw BenchError("the MQTT client stopped before it connected to \(broker.host):\(broker.port)")
    }

    func disconnect() async {
        await client.disconnect()
        _ = await runner.result
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
