/// A decoded frame in the one shape every protocol produces: what the session, the
/// normalizer and the command logic read. Nothing above the codec names a protocol's own
/// frame type.
public struct DeviceMessage: Sendable, Equatable {
    public var protocolName: ProtocolName
    /// The frame from its first byte to its terminator inclusive, or the whole binary frame.
    public var raw: [UInt8]
    /// The payloads' `message_type`: carscop's command word (`UB05`), H02's type (`V1`), or
    /// `binary` for H02 `$` frames.
    public var messageType: String
    /// Where the text after the type field lies in `raw` (terminator excluded).
    public var bodyRange: Range<Int>
    /// The device this frame names, when it names one: carscop only in its login (`UB05`),
    /// H02 in every frame. A frame that names a device binds the session to it.
    public var deviceID: String?
    /// The device's own clock reading, when the frame has one apart from the fix.
    public var deviceClock: DeviceClock?
    public var content: Content
    /// The GPS fix of `position`, `history` and `alarm` content; nil otherwise. Kept beside
    /// the content rather than inside it: a payload-free content enum keeps copying and
    /// destroying a message cheap on the hot path.
    public var fix: Fix?
    /// Alarms the frame raises beside its content (H02's status word); published on `alarm`
    /// in addition to the position. Carscop's `UA01` is `.alarm` content instead.
    public var alarms: [DeviceAlarm]
    /// True for frames that by protocol definition answer a command (H02 `V4`): when no
    /// command waits for it, it becomes an `unmatched_reply` event.
    public var isCommandReply: Bool

    public enum Content: Sendable, Equatable {
        /// Keeps the connection alive, refreshes the device's status; nothing is published.
        case heartbeat
        /// A live position (`position` topic).
        case position
        /// A stored position sent late (`history` topic).
        case history
        /// An alarm carrying its own position, published on `alarm` only.
        case alarm(DeviceAlarm)
        /// Published as an event of this kind: a frame of unknown type, cell towers without
        /// GPS, or a position block without a position.
        case event(EventKind)
        /// A command reply without a position (H02 `V4` with no block): published through the
        /// command it answers (`device_reply`), or as an `unmatched_reply` event.
        case commandReply
    }

    public init(
        protocolName: ProtocolName, raw: [UInt8], messageType: String, bodyRange: Range<Int>, deviceID: String? = nil,
        deviceClock: DeviceClock? = nil, content: Content, fix: Fix? = nil, alarms: [DeviceAlarm] = [],
        isCommandReply: Bool = false
    ) {
        self.protocolName = protocolName
        self.raw = raw
        self.messageType = messageType
        self.bodyRange = bodyRange
        self.deviceID = deviceID
        self.deviceClock = deviceClock
        self.content = content
        self.fix = fix
        self.alarms = alarms
        self.isCommandReply = isCommandReply
    }

    /// The text after the type field, without the terminator: an event's `body`, and what
    /// command reply patterns are matched against. Built on demand: most frames never need it.
    public var body: String {
        String(latin1: raw[bodyRange])
    }

    public var isHeartbeat: Bool {
        if case .heartbeat = content { true } else { false }
    }
}

/// The event payload's `kind`.
public enum EventKind: String, Sendable, Equatable, CaseIterable {
    /// A frame type the decoder does not know.
    case unknownFrame = "unknown_frame"
    /// A device reply that no command was waiting for.
    case unmatchedReply = "unmatched_reply"
    /// Cell-tower information without a GPS position (H02 `NBR`, `V3`).
    case cellTowers = "cell_towers"
    /// A position frame whose block is empty or all zero: the unit has no position to give.
    case noPosition = "no_position"
}

/// A reading of the device's clock and how to read it.
public struct DeviceClock: Sendable, Equatable {
    public var time: CivilDateTime
    /// True when the device sends UTC (H02); false when it sends local time, which the
    /// bridge converts with the device's configured offset (carscop's header).
    public var isUTC: Bool

    public init(time: CivilDateTime, isUTC: Bool) {
        self.time = time
        self.isUTC = isUTC
    }
}

/// A GPS fix as the frame gives it.
public struct Fix: Sendable, Equatable {
    /// The fix's date and time (UTC), which may be filler or not a real instant.
    public var dateTime: CivilDateTime
    public var valid: Bool
    /// Decimal degrees rounded to 6 decimals (negative south / west); nil when the frame
    /// holds filler instead of a position (carscop's `0000.0000N00000.0000E` without a fix).
    public var latitude: Double?
    public var longitude: Double?
    public var speed: Speed
    /// Degrees.
    public var course: Double
    /// The status word as published in `status_bits` (carscop: 8 `0`/`1`; H02: 8 hex digits).
    public var statusBits: String?
    /// Metres.
    public var odometer: Int64?

    public init(
        dateTime: CivilDateTime, valid: Bool, latitude: Double?, longitude: Double?, speed: Speed, course: Double,
        statusBits: String? = nil, odometer: Int64? = nil
    ) {
        self.dateTime = dateTime
        self.valid = valid
        self.latitude = latitude
        self.longitude = longitude
        self.speed = speed
        self.course = course
        self.statusBits = statusBits
        self.odometer = odometer
    }
}

/// A speed and the unit it is known in.
public enum Speed: Sendable, Equatable {
    /// In the unit the operator declares for the device (`--speed-unit`): carscop.
    case deviceUnit(Double)
    /// In knots by the protocol's definition: H02.
    case knots(Double)
}

/// An alarm: the payload's `alarm` (Traccar's vocabulary), `code` and `label`.
public struct DeviceAlarm: Sendable, Equatable {
    public var name: AlarmName
    public var code: String
    public var label: String

    public init(name: AlarmName, code: String, label: String) {
        self.name = name
        self.code = code
        self.label = label
    }
}

/// Alarm names follow Traccar's vocabulary.
public enum AlarmName: String, Sendable, CaseIterable {
    case powerCut, accident, sos, vibration, lowspeed, overspeed, geofenceExit, movement, general
}
