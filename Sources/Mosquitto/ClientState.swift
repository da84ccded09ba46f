/// Everything `MosquittoClient` shares between callers, libmosquitto's callbacks and its loop
/// thread; always accessed under one `Mutex` in `MosquittoClientCore`.
struct ClientState {
    enum Lifecycle {
        /// `run()` not called yet.
        case idle
        case running
        /// Shutdown requested: no new publishes, drain, then DISCONNECT.
        case stopping
        /// `run()` returned; the client cannot be started again.
        case finished
    }

    enum Connection {
        case disconnected
        /// TCP connected and CONNECT sent with this version, waiting for CONNACK.
        case connecting(MQTTProtocolVersion)
        case connected(MQTTProtocolVersion)
    }

    typealias Completion = @Sendable (Result<Void, MosquittoError>) -> Void

    var lifecycle = Lifecycle.idle
    var connection = Connection.disconnected
    /// Set when the broker answered CONNECT with "unsupported protocol version".
    var protocolVersionRefused = false
    /// Set when the current connection attempt got a successful CONNACK.
    var acceptedSinceAttempt = false
    /// Set when the current connection attempt got any CONNACK, accepting or refusing.
    var connackSinceAttempt = false
    /// The index in `Configuration.brokers` of the current (or last) attempt.
    var broker = 0
    /// The CONNACK reason code that refused the current attempt.
    var refusal: Int32?
    /// TLS errors libmosquitto logged during the current attempt.
    var tlsFailure = TLSFailure()
    /// Why the last attempt failed or the last connection was lost; `nil` while connected
    /// and before the first attempt ended. What `/readyz` says while not ready.
    var lastFailure: MosquittoError?
    /// Per broker index, the failure last logged, so a failure repeated on every retry is
    /// logged once, and again only when it changes. Cleared by a successful connection.
    var reportedFailures: [Int: MosquittoError] = [:]
    /// Filters and their QoS in subscription order, re-sent after every CONNACK.
    var subscriptions: [(filter: String, qos: Int)] = []
    /// QoS 1/2 publishes handed to libmosquitto, by message id, waiting for PUBACK/PUBCOMP.
    var pendingPublishes: [Int32: Completion] = [:]
    /// SUBSCRIBE / UNSUBSCRIBE waiting for SUBACK / UNSUBACK, by message id.
    var pendingRequests: [Int32: Completion] = [:]
    /// Set by `MosquittoClient.setShutdownDeadline`: the instant by which a stop must have
    /// closed the connection, whatever the broker does.
    var shutdownDeadline: ContinuousClock.Instant?
    /// Resumed when the loop thread ends (`run()` and `disconnect()` callers).
    var finishWaiters: [CheckedContinuation<Void, Never>] = []

    var connectedVersion: MQTTProtocolVersion? {
        if case .connected(let version) = connection { version } else { nil }
    }

    mutating func remember(filter: String, qos: Int) {
        subscriptions.removeAll { $0.filter == filter }
        subscriptions.append((filter, qos))
    }

    mutating func forget(filter: String) {
        subscriptions.removeAll { $0.filter == filter }
    }
}
