import BridgeCore
import DequeModule
import Foundation
import Synchronization
import TrackerCodec

/// What the status page and `/api/` show: every device the bridge has seen with its last
/// frames, the last dead letters, commands in flight and their last results, and the frame
/// and dead-letter rates of the last minute.
///
/// Fed two ways, neither of which the hub knows about: as a `DeviceTrafficObserver` (logins,
/// logouts, frames) and through `Tap`, the sink in front of the publish pipeline, which sees
/// every message the bridge publishes (dead letters, including those of sessions that never
/// named a device, and command results, wherever they come from).
///
/// Cost on the hot path: one short critical section per decoded frame (a dictionary lookup,
/// appending the raw bytes to the device's ring, a counter); a published position passes the
/// tap with one `switch` and no lock. Memory is bounded: per device about 300 bytes plus its
/// last `framesKept` frames of at most `frameBytesKept` bytes each (typically 2-3 KB, at most
/// about 6 KB), for the online devices and at most `offlineDevicesKept` offline ones; 100
/// dead letters of at most 1 KB; at most `commandsInFlightKept` + 50 commands. Frames are
/// kept raw and decoded again, with the pure codec, only when their device's page asks.
public final class StatusBoard: DeviceTrafficObserver {
    public static let framesKept = 20
    /// Longer frames are kept cut, and shown raw only.
    public static let frameBytesKept = 256
    public static let deadLettersKept = 100
    public static let resultsKept = 50
    public static let commandsInFlightKept = 1000
    /// Offline devices beyond this are forgotten, those seen longest ago first.
    public static let offlineDevicesKept = 10_000

    struct Frame: Sendable {
        var receivedAt: Int64
        var protocolName: ProtocolName
        /// At most `frameBytesKept` bytes.
        var raw: [UInt8]
        var length: Int
    }

    struct Fix: Sendable {
        /// Seconds since the epoch; nil when the device sent no real date.
        var time: Int64?
        var valid: Bool
        var latitude: Double
        var longitude: Double
    }

    struct Device: Sendable {
        var protocolName: ProtocolName?
        var transport: Transport?
        var peer: String?
        var online = false
        var connectedSince: Int64?
        var lastSeen: Int64?
        var frames = 0
        var lastFix: Fix?
        var recent: Deque<Frame> = []
    }

    struct DeadLetter: Sendable {
        var receivedAt: String?
        var reason: String
        var detail: String
        var transport: String
        var peer: String
        var deviceID: String?
        /// The bytes, recovered from the payload's ISO-8859-1 `raw` (at most 1024).
        var raw: [UInt8]
        var rawLength: Int
        var truncated: Bool
    }

    struct Command: Sendable, Equatable {
        var id: String?
        var deviceID: String
        var type: String?
        var status: String
        var reason: String?
        var at: String?
        var isFinal: Bool
    }

    /// The broker connection as the bridge's event consumer saw it last.
    struct Broker: Sendable {
        var connected = false
        var since: Int64?
        var mqttProtocol: String?
    }

    struct State: Sendable {
        var devices: [String: Device] = [:]
        var online = 0
        var frames = SecondBuckets()
        var deadLetterRate = SecondBuckets()
        var deadLetters: Deque<DeadLetter> = []
        /// Keyed by device and command id: ids are unique per controller, not globally.
        var inFlight: [String: Command] = [:]
        var results: Deque<Command> = []
        var broker = Broker()
        /// The device listeners as bound.
        var listeners: [String] = []
    }

    let state = Mutex(State())
    /// `<base>/bridge/forget`: `cctr-bridge forget` announces a device whose retained topics it
    /// cleared; the board then drops the device unless it is online (the page would show a
    /// device the broker no longer knows of).
    private let forgetTopic: String?
    public var subscriptions: [String] { forgetTopic.map { [$0] } ?? [] }

    public init(forgetTopic: String? = nil) {
        self.forgetTopic = forgetTopic
    }

    public func observe(_ event: DeviceTrafficEvent, hub: DeviceHub) -> [OutboundMessage] {
        switch event {
        case .online(let deviceID, let transport, let protocolName, let now):
            // Once per login: the peer is the session's, which only the hub knows.
            let peer = hub.handle(forDevice: deviceID)?.peer
            state.withLock { state in
                var device = state.devices[deviceID] ?? Device()
                if !device.online { state.online += 1 }
                device.online = true
                device.transport = transport
                device.protocolName = protocolName
                device.peer = peer ?? device.peer
                device.connectedSince = now
                device.lastSeen = now
                state.devices[deviceID] = device
            }
        case .offline(let deviceID, let now):
            state.withLock { state in
                guard var device = state.devices[deviceID], device.online else { return }
                device.online = false
                device.connectedSince = nil
                device.lastSeen = max(device.lastSeen ?? now, now)
                state.devices[deviceID] = device
                state.online -= 1
                Self.forgetOldOffline(&state)
            }
        case .frame(let message, let deviceID, let now):
            frame(message, deviceID: deviceID, now: now)
        case .brokerMessage(let message, _) where message.topic == forgetTopic:
            let deviceID = String(decoding: message.payload, as: UTF8.self)
            state.withLock { state in
                if state.devices[deviceID]?.online == false { state.devices[deviceID] = nil }
            }
        case .published, .brokerConnected, .claimedElsewhere, .brokerMessage, .tick:
            break
        }
        return []
    }

    /// Messages reach the board through `Tap`, the broker state through `brokerChanged`.
    public var interests: DeviceTrafficEvent.Kinds { forgetTopic == nil ? [.online, .offline, .frame] : [.online, .offline, .frame, .brokerMessage] }

    /// The hot path: one critical section, no allocation beyond the kept bytes.
    private func frame(_ message: DeviceMessage, deviceID: String, now: Int64) {
        let kept = Frame(
            receivedAt: now, protocolName: message.protocolName,
            raw: message.raw.count <= Self.frameBytesKept ? message.raw : Array(message.raw.prefix(Self.frameBytesKept)),
            length: message.raw.count)
        var fix: Fix?
        if let f = message.fix, let latitude = f.latitude, let longitude = f.longitude {
            fix = Fix(
                time: f.dateTime.isRealInstant ? f.dateTime.secondsSinceEpoch : nil, valid: f.valid,
                latitude: latitude, longitude: longitude)
        }
        state.withLock { state in
            state.frames.add(at: now)
            Self.received(kept, fix: fix, into: &state.devices[deviceID, default: Device()])
        }
    }

    /// Updates the device in place (one hash lookup, its ring not copied).
    private static func received(_ frame: Frame, fix: Fix?, into device: inout Device) {
        device.frames += 1
        device.lastSeen = frame.receivedAt
        device.protocolName = frame.protocolName
        if let fix { device.lastFix = fix }
        if device.recent.count == framesKept { device.recent.removeFirst() }
        device.recent.append(frame)
    }

    /// The device listeners as bound (ports chosen by the system filled in).
    public func listening(on listeners: [String]) {
        state.withLock { $0.listeners = listeners }
    }

    /// The broker connection changed (the bridge's MQTT event consumer calls this).
    public func brokerChanged(connected: Bool, mqttProtocol: String?, now: Int64) {
        state.withLock { state in
            guard state.broker.connected != connected || state.broker.since == nil else { return }
            state.broker = Broker(connected: connected, since: now, mqttProtocol: mqttProtocol ?? state.broker.mqttProtocol)
        }
    }

    /// A message on its way to the publish pipeline. Positions, statuses and the like pass
    /// with one `switch`; dead letters and command results, rare, are read back from their
    /// payloads (the contract's JSON, which the bridge itself wrote).
    func published(_ message: OutboundMessage) {
        switch message.kind {
        case .deadLetter:
            guard let letter = Self.deadLetter(message.payload) else { return }
            let now = WallClock.milliseconds()
            state.withLock { state in
                state.deadLetterRate.add(at: now)
                if state.deadLetters.count == Self.deadLettersKept { state.deadLetters.removeFirst() }
                state.deadLetters.append(letter)
            }
        case .commandResult:
            guard let command = Self.command(message.payload) else { return }
            state.withLock { Self.record(command, in: &$0) }
        default:
            break
        }
    }

    private static func record(_ command: Command, in state: inout State) {
        let key = "\(command.deviceID)\u{0}\(command.id ?? "")"
        if command.isFinal {
            // The copy for a controller's response topic follows its original at once.
            if state.results.last == command { return }
            state.inFlight[key] = nil
            if state.results.count == resultsKept { state.results.removeFirst() }
            state.results.append(command)
            return
        }
        state.inFlight[key] = command
        // Beyond the bound (a flood of queued commands), the one updated longest ago goes:
        // `at` is the contract's fixed-width UTC time, so text order is time order.
        if state.inFlight.count > commandsInFlightKept,
            let oldest = state.inFlight.min(by: { ($0.value.at ?? "") < ($1.value.at ?? "") })
        {
            state.inFlight[oldest.key] = nil
        }
    }

    private static func forgetOldOffline(_ state: inout State) {
        guard state.devices.count - state.online > offlineDevicesKept else { return }
        let oldest = state.devices.filter { !$0.value.online }.min { ($0.value.lastSeen ?? 0) < ($1.value.lastSeen ?? 0) }
        if let oldest { state.devices[oldest.key] = nil }
    }

    private static func deadLetter(_ payload: [UInt8]) -> DeadLetter? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any] else { return nil }
        let raw = (object["raw"] as? String) ?? ""
        return DeadLetter(
            receivedAt: object["received_at"] as? String, reason: object["reason"] as? String ?? "",
            detail: object["detail"] as? String ?? "", transport: object["transport"] as? String ?? "",
            peer: object["peer"] as? String ?? "", deviceID: object["device_id"] as? String,
            raw: raw.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) },
            rawLength: object["raw_length"] as? Int ?? raw.unicodeScalars.count,
            truncated: object["truncated"] as? Bool ?? false)
    }

    private static func command(_ payload: [UInt8]) -> Command? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any],
            let deviceID = object["device_id"] as? String, let status = object["status"] as? String
        else { return nil }
        return Command(
            id: object["id"] as? String, deviceID: deviceID, type: object["type"] as? String, status: status,
            reason: object["reason"] as? String, at: object["at"] as? String, isFinal: object["final"] as? Bool ?? true)
    }

    /// The sink in front of the publish pipeline: shows every message to the board, then
    /// passes it on unchanged.
    public struct Tap: MessageSink {
        let board: StatusBoard
        let sink: any MessageSink

        public init(board: StatusBoard, sink: any MessageSink) {
            self.board = board
            self.sink = sink
        }

        public func submit(_ message: OutboundMessage) {
            board.published(message)
            sink.submit(message)
        }

        public var isCongested: Bool { sink.isCongested }
    }
}
