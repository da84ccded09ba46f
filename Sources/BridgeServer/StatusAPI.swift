import BridgeCore
import TrackerCodec

/// What only the bridge knows about itself, read each time `/api/bridge` is asked.
public struct StatusFacts: Sendable {
    public var instance: String
    public var version: String
    public var startedAt: Int64
    public var brokerURL: String
    /// QoS 1 publishes awaiting their PUBACK.
    public var publishesInFlight: Int
    public var spoolBytes: Int
    public var spoolPending: Int
    /// When the oldest record still in the spool was accepted, at the latest (see
    /// `PublishPipeline.oldestPendingAcceptedAt`); nil when the spool is empty.
    public var spoolOldestAcceptedAt: Int64?
}

/// The JSON documents of `/api/` (`schemas/api-*.schema.json`), rendered from a snapshot of
/// the `StatusBoard` taken under its lock (copy-on-write: the next frame pays one copy of
/// the device table, once per request) and the bridge's facts.
///
/// Strings from devices and from MQTT (peers, details, command ids, raw bytes) go out as JSON
/// strings, escaped by `JSONWriter`; raw bytes go out twice, as ISO-8859-1 text (each byte one
/// code point, NUL and quotes escaped) and as hex, so the page never has to interpret them.
struct StatusAPI: Sendable {
    let board: StatusBoard
    let facts: @Sendable () -> StatusFacts

    /// `/api/bridge`.
    func bridge(now: Int64) -> [UInt8] {
        let facts = facts()
        let state = board.state.withLock { $0 }
        var w = header(now: now)
        w.key("instance")
        w.string(facts.instance)
        w.key("version")
        w.string(facts.version)
        w.key("started_at")
        w.timestamp(milliseconds: facts.startedAt)
        w.key("uptime_s")
        w.integer(max(0, now - facts.startedAt) / 1000)
        w.key("listeners")
        w.beginArray()
        for listener in state.listeners { w.string(listener) }
        w.endArray()
        w.key("broker")
        w.beginObject()
        w.key("url")
        w.string(facts.brokerURL)
        w.key("connected")
        w.bool(state.broker.connected)
        w.key("since")
        w.timestamp(milliseconds: state.broker.since)
        w.key("mqtt_protocol")
        w.string(state.broker.mqttProtocol)
        w.endObject()
        w.key("publish")
        w.beginObject()
        w.key("in_flight")
        w.integer(Int64(facts.publishesInFlight))
        w.key("spool_bytes")
        w.integer(Int64(facts.spoolBytes))
        w.key("spool_pending")
        w.integer(Int64(facts.spoolPending))
        w.key("spool_oldest_age_ms")
        w.integer(facts.spoolOldestAcceptedAt.map { max(0, now - $0) })
        w.endObject()
        w.key("devices_online")
        w.integer(Int64(state.online))
        w.key("devices_known")
        w.integer(Int64(state.devices.count))
        w.key("frames_per_s")
        rates(state.frames.perSecond(at: now), into: &w)
        w.key("deadletters_per_s")
        rates(state.deadLetterRate.perSecond(at: now), into: &w)
        w.endObject()
        return w.bytes
    }

    /// `/api/devices`: every device the board knows, by id.
    func devices(now: Int64) -> [UInt8] {
        let state = board.state.withLock { $0 }
        let pending = pendingCommands(state)
        var w = header(now: now)
        w.key("devices")
        w.beginArray()
        for (id, device) in state.devices.sorted(by: { $0.key < $1.key }) {
            row(id, device, pending: pending[id] ?? 0, into: &w)
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// `/api/devices/<id>`: the device's row and its last frames, raw and decoded again;
    /// nil for a device the board does not know.
    func device(_ id: String, now: Int64) -> [UInt8]? {
        let (device, pending) = board.state.withLock { state in
            (state.devices[id], state.inFlight.values.filter { $0.deviceID == id }.count)
        }
        guard let device else { return nil }
        var w = header(now: now)
        w.key("device")
        row(id, device, pending: pending, into: &w)
        w.key("frames")
        w.beginArray()
        for frame in device.recent.reversed() { self.frame(frame, into: &w) }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// `/api/deadletters`: the last 100, newest first.
    func deadLetters(now: Int64) -> [UInt8] {
        let letters = board.state.withLock { $0.deadLetters }
        var w = header(now: now)
        w.key("deadletters")
        w.beginArray()
        for letter in letters.reversed() {
            w.beginObject()
            w.key("received_at")
            w.string(letter.receivedAt)
            w.key("reason")
            w.string(letter.reason)
            w.key("detail")
            w.string(letter.detail)
            w.key("transport")
            w.string(letter.transport)
            w.key("peer")
            w.string(letter.peer)
            w.key("device_id")
            w.string(letter.deviceID)
            raw(letter.raw, length: letter.rawLength, truncated: letter.truncated, into: &w)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// `/api/commands`: commands in flight (oldest first) and the last 50 final results
    /// (newest first).
    func commands(now: Int64) -> [UInt8] {
        let (inFlight, results) = board.state.withLock { state in
            (state.inFlight.values.sorted { ($0.at ?? "") < ($1.at ?? "") }, state.results)
        }
        var w = header(now: now)
        w.key("in_flight")
        w.beginArray()
        for command in inFlight { self.command(command, into: &w) }
        w.endArray()
        w.key("results")
        w.beginArray()
        for command in results.reversed() { self.command(command, into: &w) }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    // MARK: - Parts

    private func header(now: Int64) -> JSONWriter {
        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        w.key("v")
        w.integer(1)
        w.key("now")
        w.timestamp(milliseconds: now)
        return w
    }

    private func rates(_ counts: [Int], into w: inout JSONWriter) {
        w.beginArray()
        for count in counts { w.integer(Int64(count)) }
        w.endArray()
    }

    private func pendingCommands(_ state: StatusBoard.State) -> [String: Int] {
        var pending: [String: Int] = [:]
        for command in state.inFlight.values { pending[command.deviceID, default: 0] += 1 }
        return pending
    }

    private func row(_ id: String, _ device: StatusBoard.Device, pending: Int, into w: inout JSONWriter) {
        w.beginObject()
        w.key("id")
        w.string(id)
        w.key("protocol")
        w.string(device.protocolName?.rawValue)
        w.key("transport")
        w.string(device.transport?.rawValue)
        w.key("peer")
        w.string(device.peer)
        w.key("state")
        w.string(device.online ? "online" : "offline")
        w.key("connected_since")
        w.timestamp(milliseconds: device.connectedSince)
        w.key("last_seen")
        w.timestamp(milliseconds: device.lastSeen)
        w.key("frames")
        w.integer(Int64(device.frames))
        w.key("last_fix")
        if let fix = device.lastFix {
            self.fix(time: fix.time, valid: fix.valid, latitude: fix.latitude, longitude: fix.longitude, into: &w)
        } else {
            w.null()
        }
        w.key("pending_commands")
        w.integer(Int64(pending))
        w.endObject()
    }

    private func frame(_ frame: StatusBoard.Frame, into w: inout JSONWriter) {
        w.beginObject()
        w.key("received_at")
        w.timestamp(milliseconds: frame.receivedAt)
        w.key("protocol")
        w.string(frame.protocolName.rawValue)
        let truncated = frame.raw.count < frame.length
        raw(frame.raw, length: frame.length, truncated: truncated, into: &w)
        var decoded: DeviceMessage?
        var error: String?
        if truncated {
            error = "only the first \(frame.raw.count) of \(frame.length) bytes are kept"
        } else if let codec = TrackerProtocols.named(frame.protocolName) {
            do throws(FrameRejection) {
                decoded = try codec.decode(frame.raw)
            } catch let rejection {
                error = "\(rejection.reason.rawValue): \(rejection.detail)"
            }
        }
        w.key("decoded")
        if let decoded { message(decoded, into: &w) } else { w.null() }
        w.key("error")
        w.string(error)
        w.endObject()
    }

    private func message(_ message: DeviceMessage, into w: inout JSONWriter) {
        w.beginObject()
        w.key("message_type")
        w.string(message.messageType)
        w.key("device_id")
        w.string(message.deviceID)
        w.key("content")
        switch message.content {
        case .heartbeat: w.string("heartbeat")
        case .position: w.string("position")
        case .history: w.string("history")
        case .alarm(let alarm): w.string("alarm \(alarm.name.rawValue)")
        case .event(let kind): w.string("event \(kind.rawValue)")
        case .commandReply: w.string("command reply")
        }
        w.key("fix")
        if let fix = message.fix {
            self.fix(
                time: fix.dateTime.isRealInstant ? fix.dateTime.secondsSinceEpoch : nil, valid: fix.valid,
                latitude: fix.latitude, longitude: fix.longitude, course: fix.course, into: &w)
        } else {
            w.null()
        }
        w.key("alarms")
        w.beginArray()
        for alarm in message.alarms { w.string(alarm.name.rawValue) }
        w.endArray()
        w.endObject()
    }

    /// A fix object: a row's last fix, or a decoded frame's (which adds `course`).
    private func fix(
        time: Int64?, valid: Bool, latitude: Double?, longitude: Double?, course: Double? = nil, into w: inout JSONWriter
    ) {
        w.beginObject()
        w.key("time")
        if let time { w.timestamp(seconds: time) } else { w.null() }
        w.key("valid")
        w.bool(valid)
        w.key("lat")
        w.number(latitude, decimals: 6)
        w.key("lon")
        w.number(longitude, decimals: 6)
        if let course {
            w.key("course")
            w.number(course, decimals: 1)
        }
        w.endObject()
    }

    private func raw(_ bytes: [UInt8], length: Int, truncated: Bool, into w: inout JSONWriter) {
        w.key("raw")
        w.latin1String(bytes)
        w.key("raw_hex")
        w.hexString(bytes)
        w.key("raw_length")
        w.integer(Int64(length))
        w.key("truncated")
        w.bool(truncated)
    }

    private func command(_ command: StatusBoard.Command, into w: inout JSONWriter) {
        w.beginObject()
        w.key("id")
        w.string(command.id)
        w.key("device_id")
        w.string(command.deviceID)
        w.key("type")
        w.string(command.type)
        w.key("status")
        w.string(command.status)
        w.key("reason")
        w.string(command.reason)
        w.key("at")
        w.string(command.at)
        w.key("final")
        w.bool(command.isFinal)
        w.endObject()
    }
}
