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
        do {
            return try decodeUnchecked(frame)
        } catch {
            var rejection = error
            rejection.raw = frame
            throw rejection
        }
    }

    private static func decodeUnchecked(_ frame: [UInt8]) throws(FrameRejection) -> CarscopFrame {
        guard frame.count >= minimumFrameLength, frame.first == Ascii.star, frame.last == Ascii.caret else {
            throw FrameRejection(reason: .badHeader, raw: [], detail: "shorter than a header and command word")
        }
        var header = [Int](repeating: 0, count: 6)
        for i in 0..<12 {
            let byte = frame[1 + i]
            guard Ascii.isDigit(byte) else {
                throw FrameRejection(reason: .badHeader, raw: [], detail: "the 12-character header is not numeric")
            }
            header[i / 2] = header[i / 2] * 10 + Int(byte &- Ascii.zero)
        }
        let headerTime = CivilDateTime(
            year: 2000 + header[0], month: header[1], day: header[2],
            hour: header[3], minute: header[4], second: header[5]
        )
        let wordBytes = frame[13..<17]
        guard wordBytes.allSatisfy(isWordCharacter) else {
            throw FrameRejection(reason: .badHeader, raw: [], detail: "the command word is not 4 letters or digits")
        }
        let word = String(decoding: wordBytes, as: UTF8.self)
        let body = frame[17..<(frame.count - 1)]
        let content: CarscopFrame.Content
        switch word {
        case "UB00":
            content = .heartbeat
        case "UB05":
            let (gps, start) = try GPSBlock.parseSuffix(of: body)
            let id = body[body.startIndex..<start]
            guard DeviceID.isValid(utf8: id) else {
                throw FrameRejection(
                    reason: .badDeviceID, raw: [],
                    detail: "terminal id must be 1-64 characters of A-Z a-z 0-9 _ - and not 'bridge'"
                )
            }
            content = .login(deviceID: String(decoding: id, as: UTF8.self), gps: gps)
        case "UD00", "UD04":
            let (gps, start) = try GPSBlock.parseSuffix(of: body)
            guard start == body.startIndex else {
                throw FrameRejection(
                    reason: .badGPSBlock, raw: [],
                    detail: "\(start - body.startIndex) unexpected characters before the GPS block"
                )
            }
            content = word == "UD00" ? .position(gps: gps, field: nil) : .history(gps: gps)
        case "UB04":
            let (gps, start) = try GPSBlock.parseSuffix(of: body)
            content = .position(gps: gps, field: String(latin1: body[body.startIndex..<start]))
        case "UA01":
            let (gps, start) = try GPSBlock.parseSuffix(of: body)
            var labelStart = body.startIndex
            var code = ""
            if start > body.startIndex, Ascii.isDigit(body[body.startIndex]) {
                code = String(UnicodeScalar(body[body.startIndex]))
                labelStart += 1
            }
            content = .alarm(code: code, label: String(latin1: body[labelStart..<start]), gps: gps)
        default:
            content = .unknown(body: String(latin1: body))
        }
        return CarscopFrame(raw: frame, header: headerTime, word: word, content: content)
    }

    @inline(__always)
    private static func isWordCharacter(_ byte: UInt8) -> Bool {
        Ascii.isDigit(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
    }
}
