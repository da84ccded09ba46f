import Dispatch
import Logging
import Synchronization

/// The state a `MosquittoClient` shares between callers, its loop thread and libmosquitto's
/// callbacks (which reach it through the userdata pointer, so it must be `Sendable`: all
/// mutable state sits in one `Mutex`).
///
/// Completions and event-stream yields run outside the lock, so a completion may publish again.
final class MosquittoClientCore: Sendable {
    let state = Mutex(ClientState())
    let logger: Logger
    /// The nodes of `Configuration.brokers`; `ClientState.broker` indexes them.
    let brokers: [BrokerAddress]
    /// The user name sent in CONNECT, named when the broker refuses the login.
    private let username: String?
    private let events: AsyncStream<MosquittoEvent>.Continuation
    /// Signalled by a shutdown request to cut a reconnect delay short.
    private let stopSignal = DispatchSemaphore(value: 0)

    init(events: AsyncStream<MosquittoEvent>.Continuation, logger: Logger, brokers: [BrokerAddress], username: String?) {
        self.events = events
        self.logger = logger
        self.brokers = brokers
        self.username = username
    }

    // MARK: Lifecycle

    var isRunning: Bool {
        state.withLock { if case .running = $0.lifecycle { true } else { false } }
    }

    /// Moves to `.stopping` (or straight to `.finished` if `run()` never started) and wakes a
    /// loop thread sleeping between attempts.
    func requestStop() {
        let neverStarted = state.withLock { state -> Bool in
            switch state.lifecycle {
            case .idle:
                return true
            case .running:
                state.lifecycle = .stopping
                return false
            case .stopping, .finished:
                return false
            }
        }
        stopSignal.signal()
        if neverStarted { finish() }
    }

    /// Sleeps for `delay` unless a shutdown is requested first.
    func waitForStop(_ delay: Duration) {
        let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
        _ = stopSignal.wait(timeout: .now() + .nanoseconds(Int(nanoseconds)))
    }

    /// While stopping: whether DISCONNECT may go now (no connection or nothing left in flight),
    /// and the deadline a caller set for the whole stop, if any.
    func stopProgress() -> (drained: Bool, deadline: ContinuousClock.Instant?)? {
        state.withLock { state in
            guard case .stopping = state.lifecycle else { return nil }
            return (state.connectedVersion == nil || state.pendingPublishes.isEmpty, state.shutdownDeadline)
        }
    }

    /// Called once by the loop thread when it ends: fails what is still open, ends `events`,
    /// and resumes `run()` / `disconnect()`.
    func finish() {
        let (publishes, requests, waiters) = state.withLock { state in
            state.lifecycle = .finished
            state.connection = .disconnected
            defer {
                state.pendingPublishes = [:]
                state.pendingRequests = [:]
                state.finishWaiters = []
            }
            return (Array(state.pendingPublishes.values), Array(state.pendingRequests.values), state.finishWaiters)
        }
        if !publishes.isEmpty {
            logger.warning("MQTT client stopped with unacknowledged messages", metadata: ["mqtt.unacknowledged": "\(publishes.count)"])
        }
        for completion in publishes + requests { completion(.failure(.shutdown)) }
        events.finish()
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Connection attempts (loop thread)

    /// How an attempt ended, for the loop's fallback and failover decisions.
    struct AttemptOutcome {
        var accepted: Bool
        /// The broker refused the protocol version.
        var versionRefused: Bool
        /// Any CONNACK came, accepting or refusing.
        var connackSeen: Bool
        /// Why an attempt that was not accepted failed, in words; `nil` when it was accepted.
        var failure: MosquittoError?
    }

    func beginAttempt(_ version: MQTTProtocolVersion, broker: Int) {
        state.withLock { state in
            state.connection = .connecting(version)
            state.broker = broker
            state.protocolVersionRefused = false
            state.acceptedSinceAttempt = false
            state.connackSinceAttempt = false
            state.refusal = nil
            state.tlsFailure = TLSFailure()
        }
    }

    /// The socket is closed. `code` and `systemError` are libmosquitto's code and `errno` from
    /// the call that ended the attempt; `connected` whether `connect` itself succeeded.
    func attemptEnded(code: Int32, systemError: Int32, connected: Bool) -> AttemptOutcome {
        didDisconnect(code: code)
        return state.withLock { state in
            var outcome = AttemptOutcome(
                accepted: state.acceptedSinceAttempt, versionRefused: state.protocolVersionRefused,
                connackSeen: state.connackSinceAttempt)
            guard !state.acceptedSinceAttempt else { return outcome }
            let failure = ConnectionFailure.explain(.init(
                broker: brokers[state.broker], code: code, systemError: systemError, connected: connected,
                refusal: state.refusal, tls: state.tlsFailure, username: username))
            state.lastFailure = failure
            outcome.failure = failure
            return outcome
        }
    }

    /// Logs why an attempt failed, the first time this broker fails this way: a bridge that
    /// retries every few seconds for hours would otherwise repeat the same line thousands of
    /// times. Repeats go to debug; a different reason, or the same after a successful
    /// connection, is logged again.
    func report(_ failure: MosquittoError) {
        let (broker, isNew) = state.withLock { state in
            let isNew = state.reportedFailures[state.broker] != failure
            state.reportedFailures[state.broker] = failure
            return (brokers[state.broker], isNew)
        }
        // A refusal or a TLS failure needs the operator's fix; an unreachable broker may come back.
        let needsFix = failure.kind == .connectionRefused || failure.code == MosquittoHandle.tlsError
        let level: Logger.Level = !isNew ? .debug : needsFix ? .error : .warning
        logger.log(
            level: level, "cannot connect to MQTT broker: \(failure.message)",
            metadata: ["mqtt.broker": "\(broker)", "mqtt.error_code": "\(failure.code)"])
    }

    /// A libmosquitto error log line during a connection attempt (the log callback is
    /// installed only then), with OpenSSL's verify result at that moment.
    func noteLibraryError(_ line: String, verifyReason: String?) {
        state.withLock { state in
            guard case .connecting = state.connection else { return }
            state.tlsFailure.note(logLine: line, verifyReason: verifyReason)
        }
    }

    /// The broker of the current connection, `nil` while disconnected.
    var connectedBroker: BrokerAddress? {
        state.withLock { $0.connectedVersion == nil ? nil : brokers[$0.broker] }
    }

    // MARK: libmosquitto callbacks (loop thread)

    /// CONNACK; returns the subscriptions to send again.
    func didConnect(
        reasonCode: Int32, sessionPresent: Bool, sharedSubscriptionAvailable: Bool
    ) -> (MQTTProtocolVersion?, [(filter: String, qos: Int)]) {
        let accepted = state.withLock { state -> (MQTTProtocolVersion, [(filter: String, qos: Int)], BrokerAddress)? in
            guard case .connecting(let version) = state.connection else { return nil }
            state.connackSinceAttempt = true
            if reasonCode == 0 {
                state.connection = .connected(version)
                state.acceptedSinceAttempt = true
                state.lastFailure = nil
                state.reportedFailures[state.broker] = nil
                return (version, state.subscriptions, brokers[state.broker])
            }
            state.refusal = reasonCode
            if MosquittoHandle.isProtocolVersionRefusal(reasonCode) {
                state.protocolVersionRefused = true
            }
            return nil
        }
        guard let (version, subscriptions, broker) = accepted else { return (nil, []) }
        logger.info("connected to MQTT broker", metadata: [
            "mqtt.broker": "\(broker)", "mqtt.protocol": "\(version)", "mqtt.session_present": "\(sessionPresent)",
        ])
        events.yield(.connected(
            protocolVersion: version, sessionPresent: sessionPresent, sharedSubscriptionAvailable: sharedSubscriptionAvailable))
        return (version, subscriptions)
    }

    /// The connection ended (also called by the loop thread, so it must be idempotent).
    /// SUBSCRIBE/UNSUBSCRIBE still waiting complete: their filter list is re-sent on connect.
    func didDisconnect(code: Int32) {
        let reason: MosquittoError? = code == 0 ? nil : .library(code)
        let (wasConnected, requests, broker) = state.withLock { state in
            let wasConnected = state.connectedVersion != nil
            state.connection = .disconnected
            if wasConnected, let reason { state.lastFailure = reason }
            defer { state.pendingRequests = [:] }
            return (wasConnected, Array(state.pendingRequests.values), brokers[state.broker])
        }
        for completion in requests { completion(.success(())) }
        guard wasConnected else { return }
        if let reason {
            logger.warning("lost connection to MQTT broker", metadata: ["mqtt.broker": "\(broker)", "mqtt.error": "\(reason)"])
        } else {
            logger.info("disconnected from MQTT broker")
        }
        events.yield(.disconnected(reason: reason))
    }

    func didPublish(messageID: Int32, reasonCode: Int32) {
        let completion = state.withLock { $0.pendingPublishes.removeValue(forKey: messageID) }
        completion?(reasonCode >= 0x80 ? .failure(.rejected(reasonCode)) : .success(()))
    }

    func didSubscribe(messageID: Int32, grantedQoS: Int32?) {
        let completion = state.withLock { $0.pendingRequests.removeValue(forKey: messageID) }
        if let grantedQoS, grantedQoS >= 0x80 {
            completion?(.failure(.rejected(grantedQoS)))
        } else {
            completion?(.success(()))
        }
    }

    func didUnsubscribe(messageID: Int32) {
        let completion = state.withLock { $0.pendingRequests.removeValue(forKey: messageID) }
        completion?(.success(()))
    }

    func didReceive(_ message: IncomingMessage) {
        events.yield(.message(message))
    }

    func resubscribeFailed(filter: String, error: MosquittoError) {
        logger.error("could not re-subscribe", metadata: ["mqtt.filter": "\(filter)", "mqtt.error": "\(error)"])
    }
}
