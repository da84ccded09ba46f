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
    /// The user name sent in CONNECT, named when the broker refuses the login.
    private let username: String?
    private let events: AsyncStream<MosquittoEvent>.Continuation
    /// Signalled by a shutdown request to cut a reconnect delay short.
    private let stopSignal = DispatchSemaphore(value: 0)

    init(events: AsyncStream<MosquittoEvent>.Continuation, logger: Logger, username: String?) {
        self.events = events
        self.logger = logger
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

    func beginAttempt(_ version: MQTTProtocolVersion) {
        state.withLock { state in
            state.connection = .connecting(version)
            state.protocolVersionRefused = false
            state.acceptedSinceAttempt = false
            state.connackSinceAttempt = false
        }
    }

    /// The socket is closed; returns whether the attempt had been accepted, whether the
    /// broker refused the protocol version, and whether any CONNACK came at all.
    func attemptEnded(code: Int32) -> (accepted: Bool, versionRefused: Bool, connackSeen: Bool) {
        didDisconnect(code: code)
        return state.withLock { ($0.acceptedSinceAttempt, $0.protocolVersionRefused, $0.connackSinceAttempt) }
    }

    // MARK: libmosquitto callbacks (loop thread)

    /// CONNACK; returns the subscriptions to send again.
    func didConnect(
        reasonCode: Int32, sessionPresent: Bool, sharedSubscriptionAvailable: Bool
    ) -> (MQTTProtocolVersion?, [(filter: String, qos: Int)]) {
        let accepted = state.withLock { state -> (MQTTProtocolVersion, [(filter: String, qos: Int)])? in
            guard case .connecting(let version) = state.connection else { return nil }
            state.connackSinceAttempt = true
            if reasonCode == 0 {
                state.connection = .connected(version)
                state.acceptedSinceAttempt = true
                return (version, state.subscriptions)
            }
            if MosquittoHandle.isProtocolVersionRefusal(reasonCode) {
                state.protocolVersionRefused = true
            }
            return nil
        }
        guard let (version, subscriptions) = accepted else {
            if reasonCode != 0 {
                logRefusal(reasonCode)
            }
            return (nil, [])
        }
        logger.info("connected to MQTT broker", metadata: [
            "mqtt.protocol": "\(version)", "mqtt.session_present": "\(sessionPresent)",
        ])
        events.yield(.connected(
            protocolVersion: version, sessionPresent: sessionPresent, sharedSubscriptionAvailable: sharedSubscriptionAvailable))
        return (version, subscriptions)
    }

    /// A refused login names the user it tried, since "not authorized" alone leaves the
    /// operator guessing which credentials the bridge sent.
    private func logRefusal(_ reasonCode: Int32) {
        let error = MosquittoError.connectionRefused(reasonCode)
        guard MosquittoHandle.isLoginRefusal(reasonCode) else {
            logger.error("MQTT broker refused the connection", metadata: ["mqtt.error": "\(error)"])
            return
        }
        let message: Logger.Message = if let username {
            "MQTT broker refused the login of user '\(username)' (\(error.message)): check the user name in the broker URL and its password"
        } else {
            "MQTT broker refused an anonymous login (\(error.message)): give a user name in the broker URL (mqtt://user@host) and its password"
        }
        logger.error(message, metadata: ["mqtt.error": "\(error)"])
    }

    /// The connection ended (also called by the loop thread, so it must be idempotent).
    /// SUBSCRIBE/UNSUBSCRIBE still waiting complete: their filter list is re-sent on connect.
    func didDisconnect(code: Int32) {
        let (wasConnected, requests) = state.withLock { state in
            let wasConnected = state.connectedVersion != nil
            state.connection = .disconnected
            defer { state.pendingRequests = [:] }
            return (wasConnected, Array(state.pendingRequests.values))
        }
        for completion in requests { completion(.success(())) }
        guard wasConnected else { return }
        let reason: MosquittoError? = code == 0 ? nil : .library(code)
        if let reason {
            logger.warning("lost connection to MQTT broker", metadata: ["mqtt.error": "\(reason)"])
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
