import Foundation

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
    /// The highest `session_epoch` known per device, from our sessions and retained statuses.
    private var epochs: [String: Int64] = [:]

    public init(topics: TopicLayout, statusInterval: Int64 = 60_000) {
        self.topics = topics
        self.statusInterval = statusInterval
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
        let epoch = max(now, (epochs[deviceID] ?? 0) + 1)
        epochs[deviceID] = epoch
        let entry = Entry(
            session: session, transport: transport, peer: peer, protocolName: protocolName, epoch: epoch,
            connectedAt: now, lastSeen: now, lastStatusAt: now
        )
        online[deviceID] = entry
        actions.append(.publish(availability(deviceID, online: true)))
        actions.append(.publish(status(deviceID, entry, disconnectedAt: nil)))
    }

    /// Traffic from the device: refreshes `last_seen`, publishing it when the interval passed.
    public mutating func seen(_ deviceID: String, session: SessionID, now: Int64, into actions: inout [Action]) {
        guard var entry = online[deviceID], entry.session == session else { return }
        entry.lastSeen = now
        if now - entry.lastStatusAt >= statusInterval {
            entry.lastStatusAt = now
            actions.append(.publish(status(deviceID, entry, disconnectedAt: nil)))
        }
        online[deviceID] = entry
    }

    /// A session ended; publishes `offline` only if it was the device's newest session, and
    /// returns whether it was.
    @discardableResult
    public mutating func ended(_ deviceID: String, session: SessionID, now: Int64, into actions: inout [Action]) -> Bool {
        guard let entry = online[deviceID], entry.session == session else { return false }
        online[deviceID] = nil
        actions.append(.publish(availability(deviceID, online: false)))
        actions.append(.publish(status(deviceID, entry, disconnectedAt: now)))
        return true
    }

    /// A retained `status` read at start-up (or later): remembers its epoch, and when it says
    /// the device is online on this instance but no session of ours has it, a crash left it so:
    /// publish `offline`.
    public mutating func reconcile(retained status: RetainedStatus, now: Int64, into actions: inout [Action]) {
        epochs[status.deviceID] = max(epochs[status.deviceID] ?? 0, status.sessionEpoch)
        guard status.online, status.instance == topics.instance, online[status.deviceID] == nil else { return }
        let entry = Entry(
            session: 0, transport: status.transport, peer: status.peer, protocolName: status.protocolName,
            epoch: status.sessionEpoch,
            connectedAt: status.connectedAt, lastSeen: status.lastSeen, lastStatusAt: now
        )
        actions.append(.publish(availability(status.deviceID, online: false)))
        actions.append(.publish(self.status(status.deviceID, entry, disconnectedAt: now)))
    }

    /// Everything retained about the online devices, again: after the broker connection comes
    /// back, in case the broker lost its retained store.
    public func republish() -> [OutboundMessage] {
        online.sorted { $0.key < $1.key }.flatMap { id, entry in
            [availability(id, online: true), status(id, entry, disconnectedAt: nil)]
        }
    }

    /// Shutdown: every online device goes `offline`.
    public mutating func shutdown(now: Int64) -> [OutboundMessage] {
        defer { online.removeAll() }
        return online.sorted { $0.key < $1.key }.flatMap { id, entry in
            [availability(id, online: false), status(id, entry, disconnectedAt: now)]
        }
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

/// The fields of a retained `status` payload that routing and start-up reconciliation need.
public struct RetainedStatus: Sendable, Equatable {
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
}

extension RetainedStatus {
    private struct Wire: Decodable {
        let device_id: String
        let state: String
        let transport: String
        let peer: String
        let `protocol`: String?
        let instance: String
        let session_epoch: Int64
        let connected_at: String
        let last_seen: String
    }

    /// Reads a retained `status` payload; nil when it is not one this bridge could have written.
    public init?(payload: [UInt8]) {
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(payload)),
            let transport = Transport(rawValue: wire.transport),
            let connectedAt = ISOTimestamp.parseMilliseconds(wire.connected_at),
            let lastSeen = ISOTimestamp.parseMilliseconds(wire.last_seen)
        else { return nil }
        self.init(
            deviceID: wire.device_id, online: wire.state == "online", instance: wire.instance,
            sessionEpoch: wire.session_epoch, transport: transport, peer: wire.peer, protocolName: wire.protocol,
            connectedAt: connectedAt, lastSeen: lastSeen
        )
    }
}
