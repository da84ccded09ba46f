import TrackerCodec

/// Parses the contract's UTC timestamps (`YYYY-MM-DDTHH:MM:SSZ` or with `.sss`), e.g. for
/// `decode --received-at`. Returns milliseconds since the Unix epoch.
public enum ISOTimestamp {
    public static func parseMilliseconds(_ text: String) -> Int64? {
        let c = Array(text.utf8)
        guard c.count == 20 || c.count == 24, c.last == UInt8(ascii: "Z"),
            c[4] == UInt8(ascii: "-"), c[7] == UInt8(ascii: "-"), c[10] == UInt8(ascii: "T"),
            c[13] == UInt8(ascii: ":"), c[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard c[i] >= 0x30, c[i] <= 0x39 else { return nil }
                value = value * 10 + Int(c[i] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var millis = 0
        if c.count == 24 {
            guard c[19] == UInt8(ascii: "."), let fraction = number(20..<23) else { return nil }
            millis = fraction
        }
        let civil = CivilDateTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard civil.isRealInstant else { return nil }
        return civil.secondsSinceEpoch * 1000 + Int64(millis)
    }
}
