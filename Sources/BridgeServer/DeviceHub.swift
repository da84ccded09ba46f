import BridgeCore
import TrackerCodec
import Logging
import Synchronization

/// What every connection of the process shares: the device directory (who is online where),
/// the open sessions (to close a replaced one, or to write a command to a device), the limits
/// on dead letters and log lines, metrics, and the sink messages go to.
///
/// Listeners call `handle` with what their `ConnectionPipeline` produced; the hub turns
/// logins and logouts into status messages and session replacements.
public final class DeviceHub: Sendable {
    /// How a listener lets the hub act on one of its sessions.
    public struct SessionHandle: Sendable {
        public var transport: Transport
        public var peer: String
        /// Closes the session without publishing `offline` (it was replaced).
        public var close: @Sendable () -> Void
        /// Writes bytes to the device (downlink commands); the callback tells whether the
        /// write reached the socket.
        public var write: @Sendable ([UInt8], @escaping @Sendable (Bool) -> Void) -> Void

        public init(
            transport: Transport, peer: String, close: @escaping @Sendable () -> Void,
            write: @escaping @Sendable ([UInt8], @escaping @Sendable (Bool) -> Void) -> Void
        ) {
            self.transport = transport
            self.peer = peer
            self.close = close
            self.write = write
        }
    }

    private struct State: Sendable {
        var directory: DeviceDirectory
        var sessions: [DeviceDirectory.SessionID: SessionHandle] = [:]
        var deadLetterLimit: DeadLetterLimit
        var logLimiter = LogLimiter()
    }

    public let sink: any MessageSink
    public let metrics: BridgeMetrics
    private let observers = Mutex<[(observer: any DeviceTrafficObserver, interests: DeviceTrafficEvent.Kinds)]>([])
    /// What the observers want, together: read without the lock for every frame and message.
    private let interests = Atomic<UInt8>(0)
    private let logger: Logger
    private let state: Mutex<State>
    private let nextSession = Atomic<UInt64>(1)

    public init(
        topics: TopicLayout, statusIntervalMilliseconds: Int64, sink: any MessageSink, metrics: BridgeMetrics,
        logger: Logger, deadLettersPerIPPerSecond: Int = 5, deadLettersPerSecond: Int = 50
    ) {
        self.sink = sink
        self.metrics = metrics
        self.logger = logger
        state = Mutex(State(
            directory: DeviceDirectory(topics: topics, statusInterval: statusIntervalMilliseconds),
            deadLetterLimit: DeadLetterLimit(perAddress: deadLettersPerIPPerSecond, total: deadLettersPerSecond)
        ))
    }

    /// Why a session's input is held back: a TCP connection stops reading for a while, a UDP
    /// source's datagrams are dropped.
    enum ReadPause: String {
        case frameRate = "frame rate limit reached; reading paused"
        case byteBudget = "byte budget spent; reading paused"
        case datagramBudget = "byte budget spent; datagrams dropped"
    }

    /// A session exceeded `--frame-rate-limit` or its byte budget: one warning per limit and
    /// address per 10 s (with how many were suppressed), so a throttled device is visible in
    /// the log without a hostile one flooding it from ever new ports.
    func readingPaused(_ pause: ReadPause, peer: String, ip: String, deviceID: String?, pauseMilliseconds: Int64?, now: Int64) {
        guard let suppressed = state.withLock({ $0.logLimiter.admit("\(pause)|\(ip)", now: now) }) else { return }
        var metadata: Logger.Metadata = ["peer": "\(peer)", "device.id": "\(deviceID ?? "-")", "suppressed": "\(suppressed)"]
        if let pauseMilliseconds { metadata["pause_ms"] = "\(pauseMilliseconds)" }
        logger.warning("\(pause.rawValue)", metadata: metadata)
    }

    /// The bridge closed a device connection itself: counted, and logged once per reason and
    /// address per 10 s, so a flood of reconnecting garbage senders leaves one line with a
    /// count instead of one each.
    func closedConnection(
        _ reason: ConnectionCloseReason, peer: String, ip: String, deviceID: String?, detail: String, now: Int64
    ) {
        metrics.connectionClosed(reason)
        guard let suppressed = state.withLock({ $0.logLimiter.admit("closed \(reason.rawValue)|\(ip)", now: now) }) else { return }
        logger.notice("connection closed: \(reason.rawValue)", metadata: [
            "peer": "\(peer)", "device.id": "\(deviceID ?? "-")", "detail": "\(detail)", "suppressed": "\(suppressed)",
        ])
    }

    /// Adds an observer; call before traffic starts.
    public func addObserver(_ observer: any DeviceTrafficObserver) {
        observers.withLock { observers in
            observers.append((observer, observer.interests))
            interests.store(observers.reduce(0) { $0 | $1.interests.rawValue }, ordering: .relaxed)
        }
    }

    public var subscriptions: [String] {
        var seen = Set<String>()
        return observers.withLock { $0.flatMap(\.observer.subscriptions) }.filter { seen.insert($0).inserted }
    }

    /// Tells every observer that wants the event; publishes what they return.
    public func notify(_ event: DeviceTrafficEvent) {
        let kind = event.kind
        guard interests.load(ordering: .relaxed) & kind.rawValue != 0 else { return }
        let current = observers.withLock { $0 }
        for (observer, interests) in current where interests.contains(kind) {
            for message in observer.observe(event, hub: self) {
                sink.submit(message)
            }
        }
    }

    public func register(_ handle: SessionHandle) -> DeviceDirectory.SessionID {
        let id = nextSession.add(1, ordering: .relaxed).oldValue
        state.withLock { $0.sessions[id] = handle }
        return id
    }

    public func unregister(_ session: DeviceDirectory.SessionID) {
        _ = state.withLock { $0.sessions.removeValue(forKey: session) }
    }

    /// The session currently bound to a device, for writing a command to it.
    public func handle(forDevice deviceID: String) -> SessionHandle? {
        state.withLock { state in
            state.directory.session(of: deviceID).flatMap { state.sessions[$0] }
        }
    }

    /// Acts on a pipeline's outputs, in order. `ip` keys the dead-letter rate limit and the
    /// dead-letter log lines (a connection flood comes from ever new ports of one address).
    public func handle(
        _ outputs: [ConnectionPipeline.Output], session: DeviceDirectory.SessionID, source: PayloadSource, ip: String,
        now: Int64
    ) {
        var actions: [DeviceDirectory.Action] = []
        for output in outputs {
            switch output {
            case .publish(let message):
                if case .deadLetter(let reason) = message.kind {
                    metrics.deadLettered(reason)
                    let (admitted, suppressed) = state.withLock { state in
                        (state.deadLetterLimit.admit(ip: ip, now: now), state.logLimiter.admit("\(reason.rawValue)|\(ip)", now: now))
                    }
                    if let suppressed {
                        logger.notice("dead letter", metadata: [
                            "reason": "\(reason.rawValue)", "peer": "\(source.peer)", "suppressed": "\(suppressed)",
                        ])
                    }
                    guard admitted else {
                        metrics.deadLettersRateLimited.increment()
                        continue
                    }
                }
                sink.submit(message)
                if message.deviceID != nil { notify(.published(message)) }
            case .decoded(let frame, let deviceID):
                metrics.frameDecoded(frame)
                if let deviceID {
                    state.withLock { $0.directory.seen(deviceID, session: session, now: now, into: &actions) }
                    perform(&actions)
                    notify(.frame(frame, deviceID: deviceID, now: now))
                }
            case .loggedIn(let deviceID, _):
                logger.info("device online", metadata: [
                    "device.id": "\(deviceID)", "peer": "\(source.peer)", "protocol": "\(source.protocolName)",
                ])
                state.withLock {
                    $0.directory.loggedIn(
                        deviceID, session: session, transport: source.transport, peer: source.peer,
                        protocolName: source.protocolName.rawValue, now: now, into: &actions
                    )
                }
                perform(&actions)
                notify(.online(deviceID: deviceID, transport: source.transport, protocolName: source.protocolName, now: now))
            case .ended(let deviceID):
                let wasNewest = state.withLock { $0.directory.ended(deviceID, session: session, now: now, into: &actions) }
                perform(&actions)
                if wasNewest { notify(.offline(deviceID: deviceID, now: now)) }
            case .answer:
                // Written back by the listener that owns the socket.
                break
            }
        }
    }

    /// A message on `<base>/<id>/status`, live or retained, this instance's own included: it
    /// feeds the ownership view (parsed here, once), reconciles a status a crash left online
    /// (retained only), and tells the observers when the device's newer session is on another
    /// instance. An empty payload (`cctr-bridge forget`) clears the device; a payload that is
    /// not a status is logged (at most once per 10 s) and otherwise ignored.
    public func statusReceived(deviceID: String, payload: [UInt8], retained: Bool, now: Int64) {
        guard !payload.isEmpty else {
            state.withLock { $0.directory.statusCleared(deviceID) }
            return
        }
        guard let status = DeviceStatus(payload: payload), status.deviceID == deviceID else {
            if let suppressed = state.withLock({ $0.logLimiter.admit("bad status", now: now) }) {
                logger.notice("ignored a message on a status topic that is not a device status", metadata: [
                    "device.id": "\(deviceID)", "suppressed": "\(suppressed)",
                ])
            }
            return
        }
        var actions: [DeviceDirectory.Action] = []
        let movedAway = state.withLock { $0.directory.statusSeen(status, retained: retained, now: now, into: &actions) }
        perform(&actions)
        if movedAway { notify(.claimedElsewhere(deviceID: deviceID, by: status.instance, now: now)) }
    }

    /// A message on `<base>/bridge/<instance>/state`. When another instance newly came
    /// online, this one re-publishes its online devices' status (live, so the newcomer learns
    /// who holds them without retained messages) and returns true: the caller announces this
    /// instance's own `state` again. The devices the view already knew that instance to hold
    /// now have a living owner: the observers hear `.claimedElsewhere` for each, so that
    /// commands parked here while the owner seemed dead go to it.
    public func memberState(_ member: String, online: Bool, now: Int64) -> Bool {
        let held = state.withLock { state -> [String]? in
            guard state.directory.memberState(member, online: online) else { return nil }
            return state.directory.ownership.devices(heldBy: member)
        }
        guard let held else { return false }
        for deviceID in held { notify(.claimedElsewhere(deviceID: deviceID, by: member, now: now)) }
        republish()
        return true
    }

    /// Runs `body` on the ownership view, under the hub's lock (keep it short).
    public func withOwnership<T>(_ body: (OwnershipView) -> T) -> T {
        state.withLock { body($0.directory.ownership) }
    }

    /// Availability and status of every online device, again (after a broker reconnect).
    public func republish() {
        for message in state.withLock({ $0.directory.republish() }) {
            sink.submit(message)
        }
    }

    /// Shutdown: every online device is published `offline`.
    public func shutdown(now: Int64) {
        for message in state.withLock({ $0.directory.shutdown(now: now) }) {
            sink.submit(message)
        }
    }

    private func perform(_ actions: inout [DeviceDirectory.Action]) {
        guard !actions.isEmpty else { return }
        for action in actions {
            switch action {
            case .publish(let message):
                sink.submit(message)
            case .closeSession(let session):
                let handle = state.withLock { $0.sessions[session] }
                handle?.close()
            }
        }
        actions.removeAll(keepingCapacity: true)
    }
}
