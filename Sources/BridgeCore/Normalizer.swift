import TrackerCodec

/// Turns decoded frames and rejections into the contract's payloads and topics.
///
/// Pure: the receive time, the device's settings and the source are passed in. Retention of
/// positions depends on what was retained before, so it is decided by `RetainedPositions`,
/// not here (messages leave with `retain: false` unless the caller changes it).
public struct Normalizer: Sendable {
    public let topics: TopicLayout

    public init(topics: TopicLayout) {
        self.topics = topics
    }

    /// The dead-letter `raw` keeps at most this many bytes (`truncated: true` beyond).
    public static let deadLetterRawLimit = 1024

    /// A position-bearing frame (carscop `UB05`, `UD00`, `UB04`, H02 `V1`… on `position`;
    /// carscop `UD04` on `history`). Also returns the fix time the retention rule needs.
    public func position(
        _ frame: DeviceMessage, fix: Fix, deviceID: String, topic: TopicLayout.DeviceTopic,
        settings: DeviceSettings, receivedAt: Int64, source: PayloadSource
    ) -> (message: OutboundMessage, fixTime: Int64) {
        let times = FrameTimes(frame: frame, fix: fix, offset: settings.timeZoneOffsetSeconds, receivedAt: receivedAt)
        var w = JSONWriter()
        w.beginObject()
        writeHead(&w, frame: frame, deviceID: deviceID)
        w.key("fix_time")
        w.timestamp(seconds: times.fixTime)
        w.key("device_time")
        writeOptionalTime(&w, times.deviceTime)
        w.key("received_at")
        w.timestamp(milliseconds: receivedAt)
        w.key("time_source")
        w.string(times.source.rawValue)
        writeFix(&w, fix, settings: settings)
        w.key("source")
        w.rawValue(source.json)
        w.endObject()
        let kind: OutboundMessage.Kind = topic == .history ? .history : .position
        let message = OutboundMessage(
            topic: topics.device(deviceID, topic), payload: w.bytes, kind: kind, deviceID: deviceID
        )
        return (message, times.fixTime)
    }

    /// An alarm (carscop `UA01`, or one raised by an H02 status word) on `alarm`, carrying
    /// the frame's position.
    public func alarm(
        _ frame: DeviceMessage, alarm: DeviceAlarm, fix: Fix, deviceID: String,
        settings: DeviceSettings, receivedAt: Int64, source: PayloadSource
    ) -> OutboundMessage {
        let times = FrameTimes(frame: frame, fix: fix, offset: settings.timeZoneOffsetSeconds, receivedAt: receivedAt)
        var w = JSONWriter(capacity: 640)
        w.beginObject()
        writeHead(&w, frame: frame, deviceID: deviceID)
        w.key("alarm")
        w.string(alarm.name.rawValue)
        w.key("code")
        w.string(alarm.code)
        w.key("label")
        w.string(alarm.label)
        w.key("time")
        w.timestamp(seconds: times.fixTime)
        w.key("received_at")
        w.timestamp(milliseconds: receivedAt)
        w.key("position")
        w.beginObject()
        w.key("fix_time")
        w.timestamp(seconds: times.fixTime)
        w.key("device_time")
        writeOptionalTime(&w, times.deviceTime)
        w.key("time_source")
        w.string(times.source.rawValue)
        writeFix(&w, fix, settings: settings)
        w.endObject()
        w.key("source")
        w.rawValue(source.json)
        w.endObject()
        return OutboundMessage(topic: topics.device(deviceID, .alarm), payload: w.bytes, kind: .alarm, deviceID: deviceID)
    }

    /// A frame of unknown type, cell towers, a block without a position, or a device reply no
    /// command was waiting for.
    public func event(
        _ frame: DeviceMessage, kind: EventKind, deviceID: String,
        settings: DeviceSettings, receivedAt: Int64, source: PayloadSource
    ) -> OutboundMessage {
        var w = JSONWriter()
        w.beginObject()
        writeHead(&w, frame: frame, deviceID: deviceID)
        w.key("kind")
        w.string(kind.rawValue)
        w.key("device_time")
        writeOptionalTime(&w, FrameTimes.deviceTime(frame.deviceClock, offset: settings.timeZoneOffsetSeconds))
        w.key("received_at")
        w.timestamp(milliseconds: receivedAt)
        w.key("body")
        w.string(frame.body)
        w.key("raw")
        w.latin1String(frame.raw)
        w.key("source")
        w.rawValue(source.json)
        w.endObject()
        return OutboundMessage(topic: topics.device(deviceID, .event), payload: w.bytes, kind: .event, deviceID: deviceID)
    }

    /// Input that could not be published as a device message, with the bytes and the reason.
    public func deadLetter(
        _ rejection: FrameRejection, deviceID: String?, receivedAt: Int64, source: PayloadSource
    ) -> OutboundMessage {
        let kept = rejection.raw.prefix(Self.deadLetterRawLimit)
        var w = JSONWriter(capacity: 256 + kept.count)
        w.beginObject()
        w.key("v")
        w.integer(1)
        w.key("id")
        w.string(PayloadID.forDeadLetter(reason: rejection.reason.rawValue, raw: kept))
        w.key("received_at")
        w.timestamp(milliseconds: receivedAt)
        w.key("transport")
        w.string(source.transport.rawValue)
        w.key("peer")
        w.string(source.peer)
        w.key("instance")
        w.string(source.instance)
        w.key("device_id")
        w.string(deviceID)
        w.key("reason")
        w.string(rejection.reason.rawValue)
        w.key("detail")
        w.string(rejection.detail)
        w.key("raw")
        w.latin1String(kept)
        w.key("raw_length")
        w.integer(Int64(rejection.raw.count))
        w.key("truncated")
        w.bool(rejection.raw.count > kept.count)
        w.endObject()
        return OutboundMessage(
            topic: topics.bridge(.deadletter), payload: w.bytes, kind: .deadLetter(rejection.reason), deviceID: deviceID
        )
    }

    /// The frame text on `<base>/<id>/raw` (QoS 0), for `--publish-raw`.
    public func raw(_ frame: DeviceMessage, deviceID: String) -> OutboundMessage {
        OutboundMessage(topic: topics.device(deviceID, .raw), payload: frame.raw, qos: 0, kind: .raw, deviceID: deviceID)
    }

    // MARK: - Shared pieces

    private func writeHead(_ w: inout JSONWriter, frame: DeviceMessage, deviceID: String) {
        w.key("v")
        w.integer(1)
        w.key("id")
        PayloadID.write(deviceID: deviceID, raw: frame.raw, into: &w)
        w.key("device_id")
        w.string(deviceID)
        w.key("message_type")
        w.string(frame.messageType)
    }

    private func writeOptionalTime(_ w: inout JSONWriter, _ seconds: Int64?) {
        if let seconds { w.timestamp(seconds: seconds) } else { w.null() }
    }

    /// `valid` … `odometer_m`, shared by positions and an alarm's position.
    private func writeFix(_ w: inout JSONWriter, _ fix: Fix, settings: DeviceSettings) {
        w.key("valid")
        w.bool(fix.valid)
        w.key("latitude")
        w.number(fix.latitude, decimals: 6)
        w.key("longitude")
        w.number(fix.longitude, decimals: 6)
        w.key("speed_kmh")
        switch fix.speed {
        case .deviceUnit(let value): w.number(value * settings.speedUnit.kilometresPerHour, decimals: 3)
        case .knots(let value): w.number(value * SpeedUnit.knots.kilometresPerHour, decimals: 3)
        }
        w.key("course")
        w.number(fix.course, decimals: 2)
        w.key("status_bits")
        w.string(fix.statusBits)
        w.key("odometer_m")
        w.integer(fix.odometer)
    }
}

/// Where `fix_time` came from (the contract's `time_source`).
public enum TimeSource: String, Sendable {
    case gps, device, server
}

/// The contract's time rules for one frame.
struct FrameTimes {
    var fixTime: Int64
    var source: TimeSource
    var deviceTime: Int64?

    init(frame: DeviceMessage, fix: Fix?, offset: Int, receivedAt: Int64) {
        deviceTime = Self.deviceTime(frame.deviceClock, offset: offset)
        if let fix, fix.valid, fix.dateTime.isRealInstant {
            fixTime = fix.dateTime.secondsSinceEpoch
            source = .gps
        } else if let deviceTime {
            fixTime = deviceTime
            source = .device
        } else {
            fixTime = receivedAt >= 0 ? receivedAt / 1000 : (receivedAt - 999) / 1000
            source = .server
        }
    }

    /// The device's clock in UTC, when it is a real instant: local time (carscop's header)
    /// is converted with the device's offset, UTC (H02) is taken as it is.
    static func deviceTime(_ clock: DeviceClock?, offset: Int) -> Int64? {
        guard let clock, clock.time.isRealInstant else { return nil }
        return clock.time.secondsSinceEpoch - (clock.isUTC ? 0 : Int64(offset))
    }
}
