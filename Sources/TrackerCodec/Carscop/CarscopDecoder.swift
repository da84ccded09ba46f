/// Decodes one carscop frame from the splitter into a `CarscopFrame`, or says why it cannot.
///
/// Strict about structure (the header, the GPS block's fields and ranges, the device id),
/// tolerant about width (speed written 3 ways, optional status/odometer tail, labels of any
/// length). Unknown command words are not errors: they decode to `.unknown` so the bridge
/// can publish them as events.
public enum CarscopDecoder {
    /// `*` + 12 digits + 4-character word + `^`.
    public static let minimumFrameLength = 18

    public static func decode(_ frame: [UInt8]) throws(FrameRejection) -> CarscopFrame {
        let parsed = try parse(frame)
        let body = frame[17..<(frame.count - 1)]
        let content: CarscopFrame.Content
        switch parsed.kind {
        case .heartbeat:
            content = .heartbeat
        case .login(let id):
            content = .login(deviceID: String(decoding: frame[id], as: UTF8.self), gps: parsed.gps!)
        case .position(let field):
            content = .position(gps: parsed.gps!, field: field.map { String(latin1: frame[$0]) })
        case .history:
            content = .history(gps: parsed.gps!)
        case .alarm(let code, let label):
            content = .alarm(code: String(latin1: frame[code]), label: String(latin1: frame[label]), gps: parsed.gps!)
        case .unknown:
            content = .unknown(body: String(latin1: body))
        }
        return CarscopFrame(raw: frame, header: parsed.header, word: parsed.word, content: content)
    }

    /// A frame taken apart, with ranges into the frame instead of strings: the bridge's
    /// `DeviceMessage` and the `CarscopFrame` view are both built from it, each creating only
    /// the strings it needs.
    struct Parsed {
        enum Kind {
            case heartbeat
            case login(id: Range<Int>)
            case position(field: Range<Int>?)
            case history
            case alarm(code: Range<Int>, label: Range<Int>)
            case unknown
        }

        var header: CivilDateTime
        var word: String
        var kind: Kind
        var gps: GPSBlock?
    }

    static func parse(_ frame: [UInt8]) throws(FrameRejection) -> Parsed {
        do {
            return try parseUnchecked(frame)
        } catch {
            var rejection = error
            rejection.raw = frame
            throw rejection
        }
    }

    private static func parseUnchecked(_ frame: [UInt8]) throws(FrameRejection) -> Parsed {
        guard frame.count >= minimumFrameLength, frame.first == Ascii.star, frame.last == Ascii.caret else {
            throw FrameRejection(reason: .badHeader, raw: [], detail: "shorter than a header and command word")
        }
        var header = (0, 0, 0, 0, 0, 0)
        var value = 0
        for i in 0..<12 {
            let byte = frame[1 + i]
            guard Ascii.isDigit(byte) else {
                throw FrameRejection(reason: .badHeader, raw: [], detail: "the 12-character header is not numeric")
            }
            value = value * 10 + Int(byte &- Ascii.zero)
            if i % 2 == 1 {
                switch i / 2 {
                case 0: header.0 = value
                case 1: header.1 = value
                case 2: header.2 = value
                case 3: header.3 = value
                case 4: header.4 = value
                default: header.5 = value
                }
                value = 0
            }
        }
        let headerTime = CivilDateTime(
            year: 2000 + header.0, month: header.1, day: header.2, hour: header.3, minute: header.4, second: header.5
        )
        guard isWordCharacter(frame[13]), isWordCharacter(frame[14]), isWordCharacter(frame[15]), isWordCharacter(frame[16]) else {
            throw FrameRejection(reason: .badHeader, raw: [], detail: "the command word is not 4 letters or digits")
        }
        let word = String(decoding: frame[13..<17], as: UTF8.self)
        let body = frame[17..<(frame.count - 1)]
        switch word {
        case "UB00":
            return Parsed(header: headerTime, word: word, kind: .heartbeat, gps: nil)
        case "UB05":
            let (gps, start) = try GPSBlock.parseSuffix(of: body)
            guard DeviceID.isValid(utf8: body[body.startIndex..<start]) else {
                throw FrameRejection(
                    reason: .badDeviceID, raw: [],
                    detail: "terminal id must be 1-64 characters of A-Z a-z 0-9 _ - and not 'bridge'"
                )
            }
            return Parsed(header: headerTime, word: word, kind: .login(id: body.startIndex..<start), gps: gps)
        case "UD00", "UD04":
            let (gps, start) = try GPSBlock.parseSuffix(of: body)
            guard start == body.startIndex else {
                throw FrameRejection(
                    reason: .badGPSBlock, raw: [],
                    detail: "\(start - body.startIndex) unexpected characters before the GPS block"
                )
            }
            return Parsed(header: headerTime, word: word, kind: word == "UD00" ? .position(field: nil) : .history, gps: gps)
        case "UB04":
            let (gps, start) = try GPSBlock.parseSuffix(of: body)
            return Parsed(header: headerTime, word: word, kind: .position(field: body.startIndex..<start), gps: gps)
        case "UA01":
            let (gps, start) = try GPSBlock.parseSuffix(of: body)
            var labelStart = body.startIndex
            if start > body.startIndex, Ascii.isDigit(body[body.startIndex]) {
                labelStart += 1
            }
            return Parsed(
                header: headerTime, word: word, kind: .alarm(code: body.startIndex..<labelStart, label: labelStart..<start), gps: gps)
        default:
            return Parsed(header: headerTime, word: word, kind: .unknown, gps: nil)
        }
    }

    @inline(__always)
    private static func isWordCharacter(_ byte: UInt8) -> Bool {
        Ascii.isDigit(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
    }
}
