/// Renders H02 frames as the units send them (`h02.md`): text `*HQ,<id>,<type>,…#` and
/// 32-byte BCD binary frames. Pure: the same inputs always give the same bytes.
enum H02FrameGenerator {
    /// The status word of a unit with nothing to report (active low: every alarm bit set).
    static let quietStatus = "FFFFFBFF"
    /// Bit 1 cleared: SOS.
    static let sosStatus = "FFFFFBFD"

    /// `*HQ,<id>,V1,<hhmmss>,A,<lat>,N|S,<lon>,E|W,<knots>,<course>,<ddmmyy>,<status>#`.
    static func v1(deviceID: String, _ fix: GPSFix, status: String) -> String {
        "*HQ,\(deviceID),V1," + block(fix, status: status) + "#"
    }

    /// A `V1` from a unit without a fix: an empty block, which the bridge publishes as an event.
    static func noFix(deviceID: String, unixSeconds: Int64) -> String {
        let time = CivilTime(unixSeconds: unixSeconds)
        return "*HQ,\(deviceID),V1,\(time.hhmmss),V,,N,,E,0.00,0,\(ddmmyy(time)),\(quietStatus)#"
    }

    /// `*HQ,<id>,LINK,<hhmmss>,<rssi>,<satellites>,<battery>,0,0,<ddmmyy>,<status>#`.
    static func link(deviceID: String, unixSeconds: Int64) -> String {
        let time = CivilTime(unixSeconds: unixSeconds)
        return "*HQ,\(deviceID),LINK,\(time.hhmmss),25,9,100,0,0,\(ddmmyy(time)),\(quietStatus)#"
    }

    /// The answer to a command: `*HQ,<id>,V4,<cmd>,DONE,<command's time>,<position block>#`.
    static func reply(deviceID: String, command: Substring, commandTime: Substring, _ fix: GPSFix) -> String {
        "*HQ,\(deviceID),V4,\(command),DONE,\(commandTime)," + block(fix, status: quietStatus) + "#"
    }

    static func block(_ fix: GPSFix, status: String) -> String {
        let time = CivilTime(unixSeconds: fix.unixSeconds)
        return time.hhmmss + ",A,"
            + FrameGenerator.coordinate(fix.latitude, degreeDigits: 2, positive: "N", negative: "S").dropLast() + ","
            + (fix.latitude < 0 ? "S," : "N,")
            + FrameGenerator.coordinate(fix.longitude, degreeDigits: 3, positive: "E", negative: "W").dropLast() + ","
            + (fix.longitude < 0 ? "W," : "E,")
            + knots(fix.speedKmh) + "," + String(Int(fix.course.rounded()) % 360) + "," + ddmmyy(time) + "," + status
    }

    /// The 32-byte binary frame: `$`, 5 BCD bytes of a 10-digit id, `hhmmss` `ddmmyy`,
    /// latitude `DDMMmmmm`, battery, longitude `DDDMMmmmm` + flags (valid, N, E), speed and
    /// course (3 digits each), the status word, and 3 more bytes.
    static func binary(deviceID: String, _ fix: GPSFix) -> [UInt8] {
        let time = CivilTime(unixSeconds: fix.unixSeconds)
        let lat = minutesDigits(abs(fix.latitude), degreeDigits: 2)
        let lon = minutesDigits(abs(fix.longitude), degreeDigits: 3)
        let flags = 0x2 | (fix.latitude >= 0 ? 0x4 : 0) | (fix.longitude >= 0 ? 0x8 : 0)
        let speed = min(Int((fix.speedKmh / 1.852).rounded()), 999)
        let digits = deviceID + time.hhmmss + ddmmyy(time) + lat
        var bytes: [UInt8] = [UInt8(ascii: "$")] + bcd(digits) + [0x06]
        bytes += bcd(String(lon.prefix(8)))
        bytes.append(UInt8(Int(String(lon.last!))! << 4 | flags))
        bytes += bcd(zeroPadded(speed, width: 3) + zeroPadded(Int(fix.course.rounded()) % 360, width: 3))
        bytes += [0xFF, 0xFF, 0xFB, 0xFF, 0xFF, 0x00, 0x24]
        return bytes
    }

    /// `DDMMmmmm` (or `DDDMMmmmm`): degrees, then minutes × 10⁴.
    private static func minutesDigits(_ degrees: Double, degreeDigits: Int) -> String {
        let tenThousandths = Int((degrees * 600_000).rounded())
        return zeroPadded(tenThousandths / 600_000, width: degreeDigits) + zeroPadded(tenThousandths % 600_000, width: 6)
    }

    private static func bcd(_ digits: String) -> [UInt8] {
        let values = digits.utf8.map { $0 - UInt8(ascii: "0") }
        return stride(from: 0, to: values.count, by: 2).map { values[$0] << 4 | values[$0 + 1] }
    }

    private static func knots(_ kmh: Double) -> String {
        let hundredths = Int((kmh / 1.852 * 100).rounded())
        return "\(hundredths / 100)." + zeroPadded(hundredths % 100, width: 2)
    }

    private static func ddmmyy(_ time: CivilTime) -> String {
        String(time.yymmdd.suffix(2)) + String(time.yymmdd.dropFirst(2).prefix(2)) + String(time.yymmdd.prefix(2))
    }
}
