/// Renders carscop frames as text, exactly in the layout of the real captures
/// (`*` + `yymmddhhmmss` header + command word + body + `^`). Pure: the same inputs always
/// give the same text.
enum FrameGenerator {
    /// The GPS block of a unit without a fix: filler position with the vendor's example date
    /// and time, and no status/odometer tail, as in the real `ORANGE…` captures.
    static let noFixBlock = "061825V0000.0000N00000.0000E000.0040331309.62"

    /// The 9-character field before the GPS block of a `UB04`, as in the vendor example.
    static let requestedPositionField = "999999984"

    /// A whole frame; `headerSeconds` is the header time in Unix seconds.
    static func frame(headerSeconds: Int64, word: FrameWord, body: String) -> String {
        let header = CivilTime(unixSeconds: headerSeconds)
        return "*" + header.yymmdd + header.hhmmss + word.rawValue + body + "^"
    }

    /// `*…UB00HSO^`
    static func heartbeat(headerSeconds: Int64) -> String {
        frame(headerSeconds: headerSeconds, word: .heartbeat, body: "HSO")
    }

    /// The 60-character GPS block of a valid fix, with the status bits and `L` + odometer tail.
    /// The odometer is written with at least 6 digits, as every sample does.
    static func gpsBlock(_ fix: GPSFix, speedStyle: SpeedStyle, statusBits: String, odometer: UInt64) -> String {
        let time = CivilTime(unixSeconds: fix.unixSeconds)
        return time.hhmmss + "A"
            + coordinate(fix.latitude, degreeDigits: 2, positive: "N", negative: "S")
            + coordinate(fix.longitude, degreeDigits: 3, positive: "E", negative: "W")
            + speedStyle.field(fix.speedKmh)
            + time.yymmdd
            + courseField(fix.course)
            + statusBits + "L" + zeroPadded(odometer, width: 6)
    }

    /// `ddmm.mmmm` + hemisphere (or `dddmm.mmmm` for longitude). Rounds in whole units of
    /// 0.0001 minute so that minutes never print as 60.
    static func coordinate(_ degrees: Double, degreeDigits: Int, positive: Character, negative: Character) -> String {
        let tenThousandthsOfMinute = Int((abs(degrees) * 600_000).rounded())
        let wholeDegrees = tenThousandthsOfMinute / 600_000
        let remainder = tenThousandthsOfMinute % 600_000
        return zeroPadded(wholeDegrees, width: degreeDigits)
            + zeroPadded(remainder / 10_000, width: 2) + "."
            + zeroPadded(remainder % 10_000, width: 4)
            + String(degrees < 0 ? negative : positive)
    }

    /// `ddd.dd`, 000.00 ... 359.99.
    static func courseField(_ course: Double) -> String {
        var hundredths = Int((course * 100).rounded()) % 36_000
        if hundredths < 0 { hundredths += 36_000 }
        return zeroPadded(hundredths / 100, width: 3) + "." + zeroPadded(hundredths % 100, width: 2)
    }
}
