/// Which devices are online on this instance, through which session, and what their retained
/// `status` and `availability` say. A plain value returning actions, like `DeviceSession`;
/// the server holds one behind a lock and executes what it returns.
///
/// Rules (contract, "Sessions"): a new session for an id replaces the older one, which is
/// closed without publishing `offline`; `offline` is published only when the device's newest
/// session ends. `session_epoch` is `max(now, previous + 1)`, so it rises across sessions and
/// instances. `last_seen` is refreshed at most every status interval.
public struct DeviceDirectory: Sendable {
    /// Identifies one connection (TCP) or source-address session (UDP) of this process.
    public typealias SessionID = UInt64

    public enum Action: Sendable, Equatable {
        case publish(OutboundMessage)
        /// Close an older session of a device that logged in again elsewhere; it must not
        /// publish `offline`.
        case closeSession(SessionID)
    }

    struct Entry: Sendable {
        var session: SessionID
        var transport: Transport
        var peer: String
        /// The session's tracker protocol (`carscop`, `h02`); nil when not known yet (a UDP
        /// binding resumed from before a restart) or from an older bridge's retained status.
        var protocolName: String?
        var epoch: Int64
        var connectedAt: Int64
        var lastSeen: Int64
        var lastStatusAt: Int64
    }

    public let topics: TopicLayout
    /// Milliseconds between `last_seen` refreshes (`--status-interval`).
    public let statusInterval: Int64
    private var online: [String: Entry] = [:]
    /// Who holds each device across the fleet: fed by this instance's sessions here and by
    /// every status message through `statusSeen`; `session_epoch` comes from it.
    public private(set) var ownership: OwnershipView

    public init(topics: TopicLayout, statusInterval: Int64 = 60_000) {
        self.topics = topics
        self.statusInterval = statusInterval
        ownership = OwnershipView(instance: topics.instance)
    }

    public func session(of deviceID: String) -> SessionID? {
        online[deviceID]?.session
    }

    public mutating func loggedIn(
        _ deviceID: String, session: SessionID, transport: Transport, peer: String, protocolName: String?, now: Int64,
        into actions: inout [Action]
    ) {
        if let previous = online[deviceID], previous.session != session {
            actions.append(.closeSession(previous.session))
        }
        let epoch = ownership.sessionStarted(deviceID: deviceID, now: now)
        let entry = Entry(
            session: session, transport: transport, peer: peer, protocolName: protocolName, epoch: epoch,
            connectedAt: now, lastSeen: now, lastStatusAt: now
        )
        online[deviceID] = entry
        actions.append(.publish(availability(deviceID, online: true)))
        actions.append(.publish(status(deviceID, entry, disconnectedAt: nil)))
    }

    /// Traffic from the device: refreshes `last_seen`, publishing it when the interval passed.
    /// Called for every frame: it updates the entry in place, with one hash of the id and no
    /// copy of the entry's strings.
    public mutating func seen(_ deviceID: String, session: SessionID, now: Int64, into actions: inout [Action]) {
        guard let index = online.index(forKey: deviceID), online.values[index].session == session else { return }
        online.values[index].lastSeen = now
        guard now - online.values[index].lastStatusAt >= statusInterval, isNewest(deviceID, online.values[index]) else { return }
        online.values[index].lastStatusAt = now
        actions.append(.publish(status(deviceID, online.values[index], disconnectedAt: nil)))
    }

    /// A session ended; returns whether it was the device's newest session on this instance.
    /// It publishes `offline` only if no newer session of the device is known on another
    /// instance either: a device that moved must not be shown offline by its old one.
    @discardableResult
    public mutating func ended(_ deviceID: String, session: SessionID, now: Int64, into actions: inout [Action]) -> Bool {
        guard let entry = online[deviceID], entry.session == session else { return false }
        online[deviceID] = nil
        guard isNewest(deviceID, entry) else { return true }
        ownership.sessionEnded(deviceID: deviceID, epoch: entry.epoch)
        actions.append(.publish(availability(deviceID, online: false)))
        actions.append(.publish(status(deviceID, entry, disconnectedAt: now)))
        return true
    }

    /// A `status` message from the broker, live or retained (this instance's own included).
    /// It feeds the ownership view; returns true when it shows the device's newest session on
    /// another instance (commands kept here for it must follow). A retained status saying the
    /// device is online on this instance while no session of ours has it was left so by a
    /// crash: publish `offline`.
    @discardableResult
    public mutating func statusSeen(_ status: DeviceStatus, retained: Bool, now: Int64, into actions: inout [Action]) -> Bool {
        let claim = OwnershipView.Claim(instance: status.instance, epoch: status.sessionEpoch, online: status.online)
        let movedAway = ownership.observe(deviceID: status.deviceID, claim)
        guard retained, status.online, status.instance == topics.instance, online[status.deviceID] == nil else { return movedAway }
        let entry = Entry(
            session: 0, transport: status.transport, peer: status.peer, protocolName: status.protocolName,
            epoch: status.sessionEpoch,
            connectedAt: status.connectedAt, lastSeen: status.lastSeen, lastStatusAt: now
        )
        ownership.sessionEnded(deviceID: status.deviceID, epoch: status.sessionEpoch)
        actions.append(.publish(availability(status.deviceID, online: false)))
        actions.append(.publish(self.status(status.deviceID, entry, disconnectedAt: now)))
        return movedAway
    }

    /// An empty `status` payload: `cctr-bridge forget` cleared the device.
    public mutating func statusCleared(_ deviceID: String) {
        ownership.forget(deviceID: deviceID)
    }

    /// An instance's `state` message; true when this instance should announce itself again
    /// (see `OwnershipView.memberState`).
    public mutating func memberState(_ member: String, online: Bool) -> Bool {
        ownership.memberState(member, online: online)
    }

    /// Everything retained about the online devices, again: after the broker connection comes
    /// back, in case the broker lost its retained store.
    public func republish() -> [OutboundMessage] {
        online.filter { isNewest($0.key, $0.value) }.sorted { $0.key < $1.key }.flatMap { id, entry in
            [availability(id, online: true), status(id, entry, disconnectedAt: nil)]
        }
    }

    /// Shutdown: every online device goes `offline`.
    public mutating func shutdown(now: Int64) -> [OutboundMessage] {
        defer { online.removeAll() }
        return online.filter { isNewest($0.key, $0.value) }.sorted { $0.key < $1.key }.flatMap { id, entry in
            [availability(id, online: false), status(id, entry, disconnectedAt: now)]
        }
    }

    /// Whether this session is the device's newest known anywhere: a session superseded on
    /// another instance (its old connection not closed yet) publishes nothing more.
    private func isNewest(_ deviceID: String, _ entry: Entry) -> Bool {
        ownership.epoch(of: deviceID) <= entry.epoch
    }

    private func availability(_ deviceID: String, online: Bool) -> OutboundMessage {
        OutboundMessage(
            topic: topics.device(deviceID, .availability), payload: Array((online ? "online" : "offline").utf8),
            retain: true, kind: .availability, deviceID: deviceID
        )
    }

    private func status(_ deviceID: String, _ entry: Entry, disconnectedAt: Int64?) -> OutboundMessage {
        var w = JSONWriter(capacity: 320)
        w.beginObject()
        w.key("v")
        w.integer(1)
        w.key("device_id")
        w.string(deviceID)
        w.key("state")
        w.string(disconnectedAt == nil ? "online" : "offline")
        w.key("transport")
        w.string(entry.transport.rawValue)
        w.key("peer")
        w.string(entry.peer)
        w.key("protocol")
        w.string(entry.protocolName)
        w.key("instance")
        w.string(topics.instance)
        w.key("session_epoch")
        w.integer(entry.epoch)
        w.key("connected_at")
        w.timestamp(milliseconds: entry.connectedAt)
        w.key("last_seen")
        w.timestamp(milliseconds: entry.lastSeen)
        w.key("disconnected_at")
        w.timestamp(milliseconds: disconnectedAt)
        w.endObject()
        return OutboundMessage(
            topic: topics.device(deviceID, .status), payload: w.bytes, retain: true, kind: .status, deviceID: deviceID
        )
    }
}

/// The fields of a `status` payload that ownership and start-up reconciliation need.
public struct DeviceStatus: Sendable, Equatable {
    public var deviceID: String
    public var online: Bool
    public var instance: String
    public var sessionEpoch: Int64
    public var transport: Transport
    public var peer: String
    public var protocolName: String?
    public var connectedAt: Int64
    public var lastSeen: Int64

    public init(
        deviceID: String, online: Bool, instance: String, sessionEpoch: Int64, transport: Transport,
        peer: String, protocolName: String? = nil, connectedAt: Int64, lastSeen: Int64
    ) {
        self.deviceID = deviceID
        self.online = online
        self.instance = instance
        self.sessionEpoch = sessionEpoch
        self.transport = transport
        self.peer = peer
        self.protocolName = protocolName
        self.connectedAt = connectedAt
        self.lastSeen = lastSeen
    }

    /// Reads a `status` payload with the same JSON reader as commands; nil when it is not one
    /// this bridge could have written (`protocol` may be absent or null: older bridges).
    public init?(payload: [UInt8]) {
        guard case .success(.object(let object)) = JSONInput.parse(payload),
            case .string(let deviceID)? = object["device_id"], case .string(let state)? = object["state"],
            case .string(let transportName)? = object["transport"], let transport = Transport(rawValue: transportName),
            case .string(let peer)? = object["peer"], case .string(let instance)? = object["instance"],
            case .integer(let epoch)? = object["session_epoch"],
            case .string(let connected)? = object["connected_at"], let connectedAt = ISOTimestamp.parseMilliseconds(connected),
            case .string(let seen)? = object["last_seen"], let lastSeen = ISOTimestamp.parseMilliseconds(seen)
        else { return nil }
        var protocolName: String?
        if case .string(let name)? = object["protocol"] { protocolName = name }
        self.init(
            deviceID: deviceID, online: state == "online", instance: instance, sessionEpoch: epoch, transport: transport,
            peer: peer, protocolName: protocolName, connectedAt: connectedAt, lastSeen: lastSeen
        )
    }
}
