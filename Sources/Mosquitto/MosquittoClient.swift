import Foundation
import Logging
import ServiceLifecycle

/// An MQTT client over libmosquitto for a long-running service: it connects in `run()`, keeps
/// reconnecting with jittered exponential backoff, re-subscribes after every reconnect and
/// publishes from any thread or task.
///
/// Usage: create it, start `run()` (directly or in a `ServiceGroup`), consume `events`, and
/// publish once `.connected` has arrived. To publish a final message (e.g. an "offline"
/// state) before leaving, await that publish, then `await disconnect()`. In a `ServiceGroup`,
/// list the client before the services that publish through it: the group shuts services down
/// in reverse order, so theirs finish first.
///
/// Publishing while disconnected fails fast with `.notConnected` (nothing is queued by this
/// client: callers own their retry queue, e.g. a spool). A QoS 1 message that libmosquitto
/// accepted stays in flight across connection losses: libmosquitto re-sends it after the
/// reconnect and its completion runs on PUBACK. Delivery is therefore at least once.
///
/// Threads: a dedicated loop thread runs `mosquitto_loop`; callbacks, completions and event
/// yields run on it, so completions must be quick and must not block.
public final class MosquittoClient: Sendable, Service {
    /// Connection changes and incoming messages, in order. Single consumer; unbounded buffer
    /// (incoming traffic is subscriptions the caller chose). Finishes when `run()` returns.
    public let events: AsyncStream<MosquittoEvent>

    private let configuration: Configuration
    private let core: MosquittoClientCore
    private let handle: MosquittoHandle

    /// Fails for settings libmosquitto rejects up front (empty client id, unreadable TLS files,
    /// invalid last will).
    public init(configuration: Configuration, logger: Logger) throws(MosquittoError) {
        guard !configuration.brokers.isEmpty else { throw .invalidArgument("no MQTT broker to connect to") }
        var logger = logger
        logger[metadataKey: "mqtt.client_id"] = "\(configuration.clientID)"
        let (stream, continuation) = AsyncStream.makeStream(of: MosquittoEvent.self)
        let core = MosquittoClientCore(
            events: continuation, logger: logger, brokers: configuration.brokers, username: configuration.username)
        self.handle = try MosquittoHandle(configuration: configuration, core: core)
        self.core = core
        self.events = stream
        self.configuration = configuration
    }

    /// Whether the broker has accepted the current connection.
    public var isConnected: Bool {
        core.state.withLock { $0.connectedVersion != nil }
    }

    /// The protocol of the current connection (after a possible fallback), `nil` while disconnected.
    public var protocolVersion: MQTTProtocolVersion? {
        core.state.withLock { $0.connectedVersion }
    }

    /// The node of `Configuration.brokers` connected to now, `nil` while disconnected.
    public var connectedBroker: BrokerAddress? {
        core.connectedBroker
    }

    /// The node connected to, or while disconnected the one being tried (or tried next): what
    /// a status display names as "the broker" at any moment.
    public var currentBroker: BrokerAddress {
        core.state.withLock { core.brokers[$0.broker] }
    }

    /// While disconnected: why the last attempt failed or the last connection was lost, in
    /// words (connection refused, TLS reason, bad credentials, not authorized); `nil` while
    /// connected or before the first attempt ended.
    public var lastFailure: MosquittoError? {
        core.state.withLock { $0.connectedVersion == nil ? $0.lastFailure : nil }
    }

    // MARK: Service

    /// Connects and stays connected until graceful shutdown, task cancellation or
    /// `disconnect()`; then waits up to `shutdownDrainTimeout` for unacknowledged QoS 1
    /// messages, sends DISCONNECT (so the broker does not publish the last will) and returns.
    /// A client runs once; after `disconnect()` before `run()`, `run()` returns at once.
    public func run() async throws {
        let starting = try core.state.withLock { state throws(MosquittoError) -> Bool in
            switch state.lifecycle {
            case .idle:
                state.lifecycle = .running
                return true
            case .finished:
                return false
            case .running, .stopping:
                throw .invalidArgument("MosquittoClient.run() called twice")
            }
        }
        guard starting else { return }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    core.state.withLock { $0.finishWaiters.append(continuation) }
                    // Named from inside: on Linux, Foundation passes `Thread.name` to the OS only
                    // for the current thread, and `top -H` and `perf` should show this one.
                    let thread = Thread {
                        Thread.current.name = "cctr-mqtt-loop"
                        self.connectionLoop()
                    }
                    thread.start()
                }
            } onGracefulShutdown: {
                self.core.requestStop()
            }
        } onCancel: {
            self.core.requestStop()
        }
    }

    /// Ends the session cleanly (drain, DISCONNECT) and returns when `run()` has finished.
    /// Publishes issued after this fail with `.shutdown`.
    public func disconnect() async {
        core.requestStop()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = core.state.withLock { state -> Bool in
                if case .finished = state.lifecycle { return true }
                state.finishWaiters.append(continuation)
                return false
            }
            if finished { continuation.resume() }
        }
    }

    /// Bounds the coming stop (graceful shutdown, cancellation or `disconnect()`): waiting for
    /// unacknowledged messages, DISCONNECT and closing the connection all end by `deadline`,
    /// instead of the DISCONNECT going out after `shutdownDrainTimeout`. For a caller that has
    /// one budget for its whole shutdown (the bridge's `--shutdown-timeout`) and hands the
    /// client what is left of it. A broker that stops reading (frozen, or a black-holed
    /// network) cannot hold the stop beyond it: the socket is closed under libmosquitto then.
    public func setShutdownDeadline(_ deadline: ContinuousClock.Instant) {
        core.state.withLock { $0.shutdownDeadline = deadline }
    }

    // MARK: Publishing

    /// Publishes and returns when the broker acknowledged it (QoS 1: PUBACK, QoS 2: PUBCOMP)
    /// or, for QoS 0, once libmosquitto took it. Cancelling the task does not withdraw a
    /// message already handed over.
    public func publish(
        topic: String, payload: [UInt8], qos: Int, retain: Bool,
        properties: PublishProperties = .init()
    ) async throws(MosquittoError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, MosquittoError>, Never>) in
            publish(topic: topic, payload: payload, qos: qos, retain: retain, properties: properties) { result in
                continuation.resume(returning: result)
            }
        }
        try result.get()
    }

    /// The hot-path variant: no task per message, so thousands can be in flight. `completion`
    /// runs exactly once: at once (QoS 0 accepted, or any failure) or on the loop thread when
    /// the acknowledgement arrives; `.shutdown` if the client stops first.
    public func publish(
        topic: String, payload: [UInt8], qos: Int, retain: Bool,
        properties: PublishProperties = .init(),
        completion: @escaping @Sendable (Result<Void, MosquittoError>) -> Void
    ) {
        guard (0...2).contains(qos) else {
            return completion(.failure(.invalidArgument("QoS must be 0, 1 or 2")))
        }
        guard MosquittoHandle.isValidTopic(topic) else {
            return completion(.failure(.invalidArgument("invalid MQTT topic for publishing: \(topic)")))
        }
        // Under the lock so that the PUBACK callback cannot look up the message id before it
        // is registered. libmosquitto runs callbacks without holding the locks publish takes.
        let immediate = core.state.withLock { state -> Result<Void, MosquittoError>? in
            guard case .running = state.lifecycle else { return .failure(.shutdown) }
            guard let version = state.connectedVersion else { return .failure(.notConnected) }
            let (rc, messageID) = handle.publish(
                topic: topic, payload: payload, qos: qos, retain: retain, properties: properties, version: version)
            guard rc == 0 else {
                // The socket closed before the disconnect callback ran. libmosquitto may still
                // have queued a QoS 1 message and send it after reconnecting; the caller's retry
                // can then duplicate it, which at-least-once delivery allows.
                return .failure(rc == MosquittoHandle.noConnection ? .notConnected : .library(rc))
            }
            guard qos > 0 else { return .success(()) }
            state.pendingPublishes[messageID] = completion
            return nil
        }
        if let immediate { completion(immediate) }
    }

    // MARK: Subscriptions

    /// Subscribes now if connected (returning after SUBACK) and after every reconnect. While
    /// disconnected, or if the connection drops before SUBACK, it returns once the filter is
    /// remembered. A broker refusal (SUBACK ≥ 0x80) throws `.rejected` and forgets the filter.
    public func subscribe(_ filter: String, qos: Int) async throws(MosquittoError) {
        guard (0...2).contains(qos) else { throw .invalidArgument("QoS must be 0, 1 or 2") }
        guard MosquittoHandle.isValidFilter(filter) else { throw .invalidArgument("invalid MQTT topic filter: \(filter)") }
        let result = await request {
            $0.remember(filter: filter, qos: qos)
        } send: { version in
            handle.subscribe(filter: filter, qos: qos, version: version)
        }
        if case .failure(let error) = result {
            if error.kind == .rejected { core.state.withLock { $0.forget(filter: filter) } }
            throw error
        }
    }

    /// Forgets the filter and unsubscribes now if connected (returning after UNSUBACK).
    public func unsubscribe(_ filter: String) async throws(MosquittoError) {
        guard MosquittoHandle.isValidFilter(filter) else { throw .invalidArgument("invalid MQTT topic filter: \(filter)") }
        try await request {
            $0.forget(filter: filter)
        } send: { _ in
            handle.unsubscribe(filter: filter)
        }.get()
    }

    /// Updates the subscription list and, when connected, sends the request and waits for its
    /// acknowledgement (registered under the lock, like `publish`). A request the connection
    /// loses before its acknowledgement counts as done: the list is re-sent on connect.
    private func request(
        update: (inout ClientState) -> Void,
        send: (MQTTProtocolVersion) -> (code: Int32, messageID: Int32)
    ) async -> Result<Void, MosquittoError> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, MosquittoError>, Never>) in
            let immediate = core.state.withLock { state -> Result<Void, MosquittoError>? in
                if case .finished = state.lifecycle { return .failure(.shutdown) }
                update(&state)
                guard let version = state.connectedVersion else { return .success(()) }
                let (rc, messageID) = send(version)
                guard rc == 0 else { return rc == MosquittoHandle.noConnection ? .success(()) : .failure(.library(rc)) }
                state.pendingRequests[messageID] = { continuation.resume(returning: $0) }
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    // MARK: Loop thread

    /// Connects, services the connection, and after it ends (or an attempt fails) moves to the
    /// next broker of `configuration.brokers`. The brokers of one round are tried back to
    /// back, so a cluster node that dies is replaced at once; the backoff delay comes after a
    /// whole round failed, and grows with each failed round. One broker is one round, so a
    /// single broker is retried after the backoff as before. A protocol fallback (MQTT 5 to
    /// 3.1.1) retries the same broker at once.
    private func connectionLoop() {
        let brokers = configuration.brokers
        var version = configuration.protocolVersion
        var index = 0
        var failedRounds = 0
        var triedInRound = 0
        while core.isRunning {
            core.beginAttempt(version, broker: index)
            handle.setProtocolVersion(version)
            let connect = handle.connect(
                to: brokers[index], keepAlive: configuration.keepAlive,
                sessionExpiry: version == .v5 ? configuration.sessionExpiry : nil)
            let connected = connect.code == 0
            let end = connected ? serviceConnection() : connect
            let outcome = core.attemptEnded(code: end.code, systemError: end.systemError, connected: connected)
            guard core.isRunning else { break }
            // A TLS failure also ends before any CONNACK, but is not the broker's answer to MQTT 5.
            let closedBeforeConnack = connected && !outcome.connackSeen && end.code != MosquittoHandle.tlsError
            if version == .v5, configuration.fallsBackToV311, outcome.versionRefused || closedBeforeConnack {
                core.logger.notice(
                    outcome.versionRefused
                        ? "MQTT broker refused protocol 5, falling back to 3.1.1"
                        : "MQTT broker closed the connection before answering an MQTT 5 CONNECT, falling back to 3.1.1",
                    metadata: ["mqtt.broker": "\(brokers[index])"])
                version = .v311
                continue
            }
            if let failure = outcome.failure { core.report(failure) }
            if outcome.accepted {
                failedRounds = 0
                triedInRound = 0
            }
            triedInRound += 1
            index = (index + 1) % brokers.count
            if triedInRound < brokers.count {
                core.logger.info("trying the next MQTT broker", metadata: ["mqtt.broker": "\(brokers[index])"])
                continue
            }
            triedInRound = 0
            let delay = configuration.reconnectBackoff.delay(afterAttempt: failedRounds)
            failedRounds += 1
            // Whole milliseconds: a `Duration` prints as "0.45883269586613457 seconds".
            let delayMilliseconds = delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000
            core.logger.info("reconnecting to MQTT broker", metadata: [
                "mqtt.broker": "\(brokers[index])", "mqtt.retry_in_ms": "\(delayMilliseconds)",
            ])
            core.waitForStop(delay)
        }
        core.finish()
    }

    /// Runs the network loop until the connection ends. On shutdown it drains unacknowledged
    /// messages until the shutdown deadline (or for `shutdownDrainTimeout`) and sends
    /// DISCONNECT; if the broker has not taken it by that deadline (it stopped reading and the
    /// socket buffer is full), the connection is closed without it: waiting on would last
    /// until keep-alive gives up, or for ever.
    private func serviceConnection() -> MosquittoHandle.Result {
        var disconnectSent = false
        var stopDeadline: ContinuousClock.Instant?
        while true {
            if let stop = core.stopProgress() {
                let deadline = stopDeadline ?? stop.deadline ?? .now + configuration.shutdownDrainTimeout
                stopDeadline = deadline
                if disconnectSent, ContinuousClock.now >= deadline {
                    core.logger.warning("MQTT broker did not take the DISCONNECT by the shutdown deadline; closing the connection")
                    return (handle.abortConnection(), 0)
                }
                if !disconnectSent, stop.drained || ContinuousClock.now >= deadline {
                    handle.disconnect()
                    disconnectSent = true
                }
            }
            let result = handle.loop(timeoutMilliseconds: 100)
            if result.code != 0 { return result }
        }
    }
}
