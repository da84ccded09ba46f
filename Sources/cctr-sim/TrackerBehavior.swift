/// Everything one simulated tracker decides, with no I/O: which frames it sends when it
/// connects, on each tick and in answer to the server. Time is passed in, so `--dry-run` and
/// live runs share this code and a seed replays the same frames for the same times.
///
/// Every frame with a status/odometer tail carries the device's next sequence number
/// (1, 2, 3, …) in the odometer, so a subscriber can count loss, duplicates and reordering.
/// No-fix frames and heartbeats have no tail and take no number.
struct TrackerBehavior {
    /// One frame ready to send.
    struct Frame {
        let word: FrameWord
        let text: String
        /// The odometer sequence number, if the frame has a tail.
        let sequence: UInt64?
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
    init(index: Int, settings: TrackerSettings) {
        self.deviceID = settings.deviceID(index: index)
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
            return Frame(word: .heartbeat, text: FrameGenerator.heartbeat(headerSeconds: seconds), sequence: nil)
        }
        positionsSinceHeartbeat += 1
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
        case .position:
            let seconds = advance(to: now)
            return [position(word: .requestedPosition, prefix: FrameGenerator.requestedPositionField, at: seconds)]
        case .none:
            return []
        }
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
