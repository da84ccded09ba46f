/// The GPS block that ends every position-bearing frame: 45 characters
/// (`hhmmss` `A|V` `ddmm.mmmm` `N|S` `dddmm.mmmm` `E|W` speed(5) `yymmdd` `ddd.dd`),
/// optionally followed by 8 status characters, `L` and a 1-10 digit odometer.
public struct GPSBlock: Sendable, Equatable {
    /// The block's date and time (`yymmdd` + `hhmmss`, years 2000-2099), which may be filler
    /// or not a real instant.
    public var dateTime: CivilDateTime
    /// `A` on the wire.
    public var valid: Bool
    /// Decimal degrees, negative for S, rounded to 6 decimals.
    public var latitude: Double
    /// Decimal degrees, negative for W, rounded to 6 decimals.
    public var longitude: Double
    /// True when the coordinates are the `0000.0000N00000.0000E` filler of a unit without a
    /// fix; they mean "no position" only together with `valid == false`.
    public var hasFillerCoordinates: Bool
    /// The speed as sent, in the device's unit (km/h unless configured otherwise).
    public var speed: Double
    /// Degrees as sent (`ddd.dd`).
    public var course: Double
    /// The 8 raw status characters, nil when the block has no tail.
    public var statusBits: String?
    /// Metres, nil when the block has no tail.
    public var odometer: Int64?

    /// Length of the block without its optional tail.
    public static let coreLength = 45

    /// Locates the block at the end of `body` (searching from the end, since what precedes it
    /// — a terminal id, an alarm label — has no fixed width) and parses it.
    /// Returns where the block starts in `body`, so callers can take what precedes it.
    public static func parseSuffix(of body: ArraySlice<UInt8>) throws(FrameRejection) -> (block: GPSBlock, start: Int) {
        var tail: (bits: ArraySlice<UInt8>, odometer: Int64)?
        var coreEnd = body.endIndex
        if let found = tailRange(in: body) {
            tail = found.value
            coreEnd = found.start
        }
        guard coreEnd - body.startIndex >= coreLength else {
            throw rejection(.badGPSBlock, "the body is too short for a GPS block")
        }
        let coreStart = coreEnd - coreLength
        var block = try parseCore(body[coreStart..<coreEnd])
        if let tail {
            block.statusBits = String(decoding: tail.bits, as: UTF8.self)
            block.odometer = tail.odometer
        }
        return (block, coreStart)
    }

    /// Finds `<8 × 0|1> L <1-10 digits>` at the very end of `body`.
    private static func tailRange(in body: ArraySlice<UInt8>) -> (start: Int, value: (bits: ArraySlice<UInt8>, odometer: Int64))? {
        var i = body.endIndex
        var odometer: Int64 = 0
        var scale: Int64 = 1
        while i > body.startIndex, Ascii.isDigit(body[i - 1]), body.endIndex - i < 10 {
            i -= 1
            odometer += Int64(body[i] &- Ascii.zero) * scale
            scale *= 10
        }
        let digits = body.endIndex - i
        guard digits >= 1, i > body.startIndex, body[i - 1] == UInt8(ascii: "L") else { return nil }
        let lIndex = i - 1
        guard lIndex - body.startIndex >= 8 else { return nil }
        let bits = body[(lIndex - 8)..<lIndex]
        guard bits.allSatisfy({ $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: "1") }) else { return nil }
        return (lIndex - 8, (bits, odometer))
    }

    private static func parseCore(_ s: ArraySlice<UInt8>) throws(FrameRejection) -> GPSBlock {
        let b = s.startIndex
        func digits(_ offset: Int, _ count: Int, _ field: String) throws(FrameRejection) -> Int {
            var value = 0
            for i in (b + offset)..<(b + offset + count) {
                guard Ascii.isDigit(s[i]) else { throw rejection(.badGPSBlock, "\(field) is not numeric") }
                value = value * 10 + Int(s[i] &- Ascii.zero)
            }
            return value
        }
        func expect(_ offset: Int, _ allowed: UInt8, _ field: String) throws(FrameRejection) {
            guard s[b + offset] == allowed else { throw rejection(.badGPSBlock, "\(field) is malformed") }
        }
        let hour = try digits(0, 2, "fix time")
        let minute = try digits(2, 2, "fix time")
        let second = try digits(4, 2, "fix time")
        let valid: Bool
        switch s[b + 6] {
        case UInt8(ascii: "A"): valid = true
        case UInt8(ascii: "V"): valid = false
        default: throw rejection(.badGPSBlock, "validity is not A or V")
        }
        // Latitude ddmm.mmmm + N|S at 7..<17.
        let latDegrees = try digits(7, 2, "latitude")
        let latMinutesWhole = try digits(9, 2, "latitude")
        try expect(11, Ascii.dot, "latitude")
        let latMinutesFraction = try digits(12, 4, "latitude")
        let latHemisphere = s[b + 16]
        guard latHemisphere == UInt8(ascii: "N") || latHemisphere == UInt8(ascii: "S") else {
            throw rejection(.badGPSBlock, "latitude hemisphere is not N or S")
        }
        // Longitude dddmm.mmmm + E|W at 17..<28.
        let lonDegrees = try digits(17, 3, "longitude")
        let lonMinutesWhole = try digits(20, 2, "longitude")
        try expect(22, Ascii.dot, "longitude")
        let lonMinutesFraction = try digits(23, 4, "longitude")
        let lonHemisphere = s[b + 27]
        guard lonHemisphere == UInt8(ascii: "E") || lonHemisphere == UInt8(ascii: "W") else {
            throw rejection(.badGPSBlock, "longitude hemisphere is not E or W")
        }
        let speed = try decimal(s[(b + 28)..<(b + 33)], field: "speed")
        let year = try digits(33, 2, "fix date")
        let month = try digits(35, 2, "fix date")
        let day = try digits(37, 2, "fix date")
        let courseWhole = try digits(39, 3, "course")
        try expect(42, Ascii.dot, "course")
        let courseFraction = try digits(43, 2, "course")

        guard latMinutesWhole < 60, lonMinutesWhole < 60 else {
            throw rejection(.coordinateOutOfRange, "minutes of 60 or more")
        }
        // Work in units of 1e-4 minutes so the range checks are exact.
        let latTenThousandths = (latDegrees * 60 + latMinutesWhole) * 10_000 + latMinutesFraction
        let lonTenThousandths = (lonDegrees * 60 + lonMinutesWhole) * 10_000 + lonMinutesFraction
        guard latTenThousandths <= 90 * 600_000 else {
            throw rejection(.coordinateOutOfRange, "latitude over 90 degrees")
        }
        guard lonTenThousandths <= 180 * 600_000 else {
            throw rejection(.coordinateOutOfRange, "longitude over 180 degrees")
        }
        guard courseWhole * 100 + courseFraction <= 36_000 else {
            throw rejection(.badGPSBlock, "course over 360 degrees")
        }
        let latitude = roundTo6(Double(latTenThousandths) / 600_000) * (latHemisphere == UInt8(ascii: "S") ? -1 : 1)
        let longitude = roundTo6(Double(lonTenThousandths) / 600_000) * (lonHemisphere == UInt8(ascii: "W") ? -1 : 1)
        return GPSBlock(
            dateTime: CivilDateTime(year: 2000 + year, month: month, day: day, hour: hour, minute: minute, second: second),
            valid: valid,
            latitude: latitude,
            longitude: longitude,
            hasFillerCoordinates: latTenThousandths == 0 && lonTenThousandths == 0
                && latHemisphere == UInt8(ascii: "N") && lonHemisphere == UInt8(ascii: "E"),
            speed: speed,
            course: Double(courseWhole) + Double(courseFraction) / 100,
            statusBits: nil,
            odometer: nil
        )
    }

    /// Five characters holding digits and exactly one decimal point anywhere inside
    /// (`ddd.d`, `dd.dd`, `d.ddd`): units disagree on the width, not on the value.
    private static func decimal(_ s: ArraySlice<UInt8>, field: String) throws(FrameRejection) -> Double {
        var whole = 0
        var fraction = 0
        var fractionDigits = -1
        for byte in s {
            if byte == Ascii.dot {
                guard fractionDigits < 0 else { throw rejection(.badGPSBlock, "\(field) has two decimal points") }
                fractionDigits = 0
            } else if Ascii.isDigit(byte) {
                if fractionDigits < 0 {
                    whole = whole * 10 + Int(byte &- Ascii.zero)
                } else {
                    fraction = fraction * 10 + Int(byte &- Ascii.zero)
                    fractionDigits += 1
                }
            } else {
                throw rejection(.badGPSBlock, "\(field) is not numeric")
            }
        }
        guard fractionDigits > 0, fractionDigits < s.count - 1 else {
            throw rejection(.badGPSBlock, "\(field) needs one decimal point between digits")
        }
        return Double(whole) + Double(fraction) / powerOf10[fractionDigits]
    }

    private static let powerOf10: [Double] = [1, 10, 100, 1000, 10000]

    /// The decoder fills in the raw frame; the block only knows its own bytes.
    private static func rejection(_ reason: RejectReason, _ detail: String) -> FrameRejection {
        FrameRejection(reason: reason, raw: [], detail: detail)
    }
}

/// Rounds to 6 decimals, the precision the contract publishes (about 0.1 m).
@inline(__always)
func roundTo6(_ value: Double) -> Double {
    (value * 1_000_000).rounded() / 1_000_000
}
