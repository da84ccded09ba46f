extension ProtocolName {
    public static let h02 = ProtocolName(rawValue: "h02")
}

/// H02, spoken by many CCTR models and look-alikes (`../shared/protocol/h02.md`): text
/// frames `*XX,<id>,<type>,…#` and fixed-length BCD binary frames starting with `$`. Every
/// frame names its device; times are UTC; speeds are knots.
public enum H02: TrackerProtocol {
    public static let name = ProtocolName.h02

    public static func makeFramer(options: CodecOptions) -> any TrackerFramer {
        H02Framer(length: options.h02BinaryLength)
    }

    public static func decode(_ frame: [UInt8]) throws(FrameRejection) -> DeviceMessage {
        do {
            return frame.first == Ascii.dollar ? try H02BinaryDecoder.decode(frame) : try H02TextDecoder.decode(frame)
        } catch {
            var rejection = error
            rejection.raw = frame
            throw rejection
        }
    }

    /// `V1` and `NBR` are answered `*HQ,<id>,V4,<type>,<yyyyMMddHHmmss>#` (UTC), as the
    /// platforms these trackers ship with do; some units resend until answered.
    public static func answer(to message: DeviceMessage, deviceID: String, now: CivilDateTime) -> [UInt8]? {
        guard message.messageType == "V1" || message.messageType == "NBR" else { return nil }
        return Array("*HQ,\(deviceID),V4,\(message.messageType),\(now.compactDigits(yearDigits: 4))#".utf8)
    }

    /// `*HQ,<id>,<cmd>,<HHMMSS>[,<params>]#`: the text's first field is the command word; the
    /// send time (UTC) goes after it, as every H02 command carries it. A template says
    /// `S20,1,1`; the device receives `*HQ,4105131188,S20,101300,1,1#`.
    public static func frameCommand(_ text: String, deviceID: String, now: CivilDateTime, deviceClock: CivilDateTime) -> [UInt8] {
        let parts = text.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
        var out = "*HQ,\(deviceID),\(parts[0]),\(now.timeDigits)"
        if parts.count > 1 { out += ",\(parts[1])" }
        out += "#"
        return Array(out.utf8)
    }
}

/// `--h02-binary-length`: how long H02 `$` frames are on a TCP connection.
public enum H02BinaryLength: Sendable, Equatable, CustomStringConvertible {
    /// From the connection's first `$` frame: a read of exactly 42 or 45 bytes shows that
    /// length, anything else means 32. Over UDP every datagram is judged by itself.
    case auto
    case fixed(Int)

    public static let lengths = [32, 42, 45]

    public init?(_ text: String) {
        if text == "auto" {
            self = .auto
        } else if let n = Int(text), Self.lengths.contains(n) {
            self = .fixed(n)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .fixed(let n): String(n)
        }
    }
}

/// Claims `*` + two letters + `,` (text, ends at `#`) and `$` (binary, fixed length).
struct H02Framer: TrackerFramer {
    let length: H02BinaryLength
    /// The binary length learned from this stream's first `$` frame (`auto` only).
    private var learned: Int?

    init(length: H02BinaryLength) {
        self.length = length
    }

    var startBytes: [UInt8] { [Ascii.star, Ascii.dollar] }

    mutating func sniff(_ head: ArraySlice<UInt8>, endOfInput: Bool) -> Sniff {
        guard let first = head.first else { return .notMine }
        if first == Ascii.dollar {
            if case .fixed(let n) = length { return .frame(.fixedLength(n)) }
            if let learned { return .frame(.fixedLength(learned)) }
            if head.count < 32, !endOfInput { return .needMore }
            let n = head.count == 42 || head.count == 45 ? head.count : 32
            learned = n
            return .frame(.fixedLength(n))
        }
        switch Self.textStart(head) {
        case .yes: return .frame(.terminated(by: Ascii.hash))
        case .no: return .notMine
        case .needMoreInput: return endOfInput ? .notMine : .needMore
        }
    }

    func restartsInside(_ head: ArraySlice<UInt8>) -> Lookahead {
        Self.textStart(head)
    }

    mutating func endOfInput() {
        learned = nil
    }

    /// `*` + two letters + `,`.
    static func textStart(_ head: ArraySlice<UInt8>) -> Lookahead {
        guard head.first == Ascii.star else { return .no }
        let i = head.startIndex
        for offset in 1...3 {
            guard i + offset < head.endIndex else { return .needMoreInput }
            let byte = head[i + offset]
            guard offset == 3 ? byte == Ascii.comma : Ascii.isLetter(byte) else { return .no }
        }
        return .yes
    }
}

/// H02's status word: 32 bits, active low. The alarm is the first of these that is set
/// (`../shared/protocol/h02.md`); its `code` is the bit's number.
enum H02Status {
    static func alarm(_ status: UInt32) -> DeviceAlarm? {
        let rules: [(bit: UInt32, name: AlarmName)] = [(0, .vibration), (1, .sos), (18, .sos), (2, .overspeed), (19, .powerCut)]
        for rule in rules where status & (1 << rule.bit) == 0 {
            return DeviceAlarm(name: rule.name, code: String(rule.bit), label: "")
        }
        return nil
    }

    static func hex(_ status: UInt32) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 {
            out[i] = digits[Int((status >> UInt32(28 - 4 * i)) & 0xF)]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
