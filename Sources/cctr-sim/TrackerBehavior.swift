/// Everything one simulated tracker decides, with no I/O: which frames it sends when it
/// connects, on each tick and in answer to the server. Time is passed in, so `--dry-run` and
/// live runs share this code and a seed replays the same frames for the same times.
///
/// Every carscop frame with a status/odometer tail carries the device's next sequence
/// number (1, 2, 3, …) in the odometer, so a subscriber can count loss, duplicates and
/// reordering. No-fix frames, heartbeats and H02 frames (which have no odometer) take no number.
///
/// An H02 device (`--h02`) names itself in every frame instead of logging in, sends `V1`
/// text positions (or 32-byte binary frames), `LINK` heartbeats and SOS through its status
/// word, and answers `S20`, `SCF` and `S71` with a `V4 … DONE` reply, as the units do.
struct TrackerBehavior {
    /// One frame ready to send.
    struct Frame {
        let word: FrameWord
        let bytes: [UInt8]
        /// The odometer sequence number, if the frame has a tail.
        let sequence: UInt64?

        init(word: FrameWord, text: String, sequence: UInt64?) {
            self.init(word: word, bytes: Array(text.utf8), sequence: sequence)
        }

        init(word: FrameWord, bytes: [UInt8], sequence: UInt64?) {
            self.word = word
            self.bytes = bytes
            self.sequence = sequence
        }
    }

    /// Which protocol the device speaks.
    enum Dialect: Sendable, Equatable {
        case carscop
        case h02Text
        case h02Binary
    }

    /// Real status-bit patterns first, then a few plausible others.
    private static let statusPatterns = ["11111111", "00000000", "11000000", "10000000", "11100000"]

    /// `(code digit, label)` pairs after TK103's alarm codes; labels may be empty or have spaces.
    private static let alarms: [(code: Character, label: String)] = [
        ("0", "Power cut"), ("1", "Accident"), ("2", "Hi-jack"), ("2", "SOS"), ("3", "Shock"),
        ("4", "Low speed"), ("5", "Overspeed"), ("6", "Geo-fence"), ("7", "Movement"), ("3", ""),
        ("9", "Help me please"),
    ]

    let deviceID: String
    let dialect: Dialect
    private let settings: TrackerSettings
    private let speedStyle: SpeedStyle
    private let statusBits: String
    private let holdsBeforeLogin: Bool
    private var random: SimRandom
    private var route: Route
    private var routeTime: Int64?
    private var sequence: UInt64 = 0
    private var positionsSinceHeartbeat = 0

    /// Device number `index` of a run. The speed style and the start city cycle with the
    /// index, so that any three devices show every speed width and both hemispheres.
    init(index: Int, settings: TrackerSettings, dialect: Dialect = .carscop) {
        self.deviceID = dialect == .carscop ? settings.deviceID(index: index) : settings.h02DeviceID(index: index)
        self.dialect = dialect
        self.settings = settings
        self.speedStyle = SpeedStyle.allCases[index % SpeedStyle.allCases.count]
        self.holdsBeforeLogin = settings.holdBeforeLogin && index % 2 == 0
        var random = SimRandom(seed: settings.seed, stream: UInt64(index))
        self.statusBits = Self.statusPatterns[Int.random(in: 0..<Self.statusPatterns.count, using: &random)]
        self.route = Route(cityIndex: index, random: &random)
        self.random = random
    }

    /// A random offset in `0 ..< interval`, so that devices do not all tick together.
    mutating func phase(of interval: Double) -> Double {
        interval > 0 ? Double.random(in: 0..<interval, using: &random) : 0
    }

    /// What the device sends on a new connection: the `UB05` login, after one live position
    /// on the devices that (like real units) send before logging in.
    mutating func connectFrames(atNanoseconds now: Int64) -> [Frame] {
        let seconds = advance(to: now)
        if dialect != .carscop {
            return [h02Position(at: seconds, alarm: false)]
        }
        var frames: [Frame] = []
        if holdsBeforeLogin {
            frames.append(position(word: .livePosition, prefix: "", at: seconds))
        }
        frames.append(position(word: .login, prefix: deviceID, at: seconds))
        return frames
    }

    /// The one frame of a periodic tick: a heartbeat when due, else a history record, an
    /// alarm or a live position.
    mutating func tickFrame(atNanoseconds now: Int64) -> Frame {
        let seconds = advance(to: now)
        if settings.heartbeatEvery > 0 && positionsSinceHeartbeat >= settings.heartbeatEvery {
            positionsSinceHeartbeat = 0
            if dialect != .carscop {
                return Frame(word: .h02Heartbeat, text: H02FrameGenerator.link(deviceID: deviceID, unixSeconds: seconds), sequence: nil)
            }
            return Frame(word: .heartbeat, text: FrameGenerator.heartbeat(headerSeconds: seconds), sequence: nil)
        }
        positionsSinceHeartbeat += 1
        if dialect != .carscop {
            return h02Position(at: seconds, alarm: random.chance(settings.alarmProbability))
        }
        if random.chance(settings.historyProbability) {
            return history(before: seconds)
        }
        if random.chance(settings.alarmProbability) {
            let alarm = Self.alarms[Int.random(in: 0..<Self.alarms.count, using: &random)]
            return valid(word: .alarm, prefix: String(alarm.code) + alarm.label, fix: currentFix(at: seconds))
        }
        return position(word: .livePosition, prefix: "", at: seconds)
    }

    /// The frames that answer one downlink message (see `DeviceReplies`).
    mutating func answer(_ message: Substring, atNanoseconds now: Int64) -> [Frame] {
        switch DeviceReplies.reply(to: message) {
        case .position where dialect == .carscop:
            let seconds = advance(to: now)
            return [position(word: .requestedPosition, prefix: FrameGenerator.requestedPositionField, at: seconds)]
        case .h02Done(let command, let time) where dialect != .carscop:
            let seconds = advance(to: now)
            let text = H02FrameGenerator.reply(deviceID: deviceID, command: command, commandTime: time, currentFix(at: seconds))
            return [Frame(word: .h02Reply, text: text, sequence: nil)]
        case .position, .h02Done, .none:
            return []
        }
    }

    /// A `V1` (or binary) position; no fix with `--nofix-probability`; SOS in the status
    /// word when `alarm`.
    private mutating func h02Position(at seconds: Int64, alarm: Bool) -> Frame {
        if random.chance(settings.noFixProbability) {
            return Frame(word: .h02Position, text: H02FrameGenerator.noFix(deviceID: deviceID, unixSeconds: seconds), sequence: nil)
        }
        let fix = currentFix(at: seconds)
        if dialect == .h02Binary {
            return Frame(word: .h02Binary, bytes: H02FrameGenerator.binary(deviceID: deviceID, fix), sequence: nil)
        }
        let status = alarm ? H02FrameGenerator.sosStatus : H02FrameGenerator.quietStatus
        return Frame(word: .h02Position, text: H02FrameGenerator.v1(deviceID: deviceID, fix, status: status), sequence: nil)
    }

    private mutating func advance(to nanoseconds: Int64) -> Int64 {
        let seconds = nanoseconds / 1_000_000_000
        if let routeTime {
            route.advance(seconds: Double(nanoseconds - routeTime) / 1e9, random: &random)
        }
        routeTime = nanoseconds
        return seconds
    }

    private func currentFix(at seconds: Int64) -> GPSFix {
        GPSFix(
            unixSeconds: seconds, latitude: route.latitude, longitude: route.longitude,
            speedKmh: route.speedKmh, course: route.course)
    }

    /// A position-bearing frame that is a no-fix frame with `--nofix-probability`.
    private mutating func position(word: FrameWord, prefix: String, at seconds: Int64) -> Frame {
        if random.chance(settings.noFixProbability) {
            let text = FrameGenerator.frame(headerSeconds: seconds, word: word, body: prefix + FrameGenerator.noFixBlock)
            return Frame(word: word, text: text, sequence: nil)
        }
        return valid(word: word, prefix: prefix, fix: currentFix(at: seconds))
    }

    private mutating func valid(word: FrameWord, prefix: String, fix: GPSFix) -> Frame {
        sequence += 1
        let block = FrameGenerator.gpsBlock(fix, speedStyle: speedStyle, statusBits: statusBits, odometer: sequence)
        let text = FrameGenerator.frame(headerSeconds: fix.unixSeconds, word: word, body: prefix + block)
        return Frame(word: word, text: text, sequence: sequence)
    }

    /// A stored record from ten minutes to sixty days ago, somewhere near the current spot.
    private mutating func history(before seconds: Int64) -> Frame {
        let age = Int64(random.uniform(600...(60 * 86_400)))
        let fix = GPSFix(
            unixSeconds: seconds - age,
            latitude: route.latitude + random.uniform(-0.02...0.02),
            longitude: route.longitude + random.uniform(-0.02...0.02),
            speedKmh: random.chance(0.3) ? 0 : random.uniform(5...80),
            course: random.uniform(0...359.99))
        return valid(word: .history, prefix: "", fix: fix)
    }
}
