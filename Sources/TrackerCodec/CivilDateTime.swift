/// A calendar date and time of day as written on the wire, which need not be a real
/// instant (trackers send `040331` filler dates, month 13, hour 24...). Whether it is one
/// decides which time source a payload uses, so it is checked, never assumed.
///
/// Stored in 16 bytes rather than six `Int`s: every decoded message carries two of them
/// (fix and device clock), and messages are copied along the hot path.
public struct CivilDateTime: Sendable, Hashable {
    private var storedYear: Int32
    private var storedMonth: Int16
    private var storedDay: Int16
    private var storedHour: Int16
    private var storedMinute: Int16
    private var storedSecond: Int16

    public var year: Int {
        get { Int(storedYear) }
        set { storedYear = Int32(clamping: newValue) }
    }
    public var month: Int {
        get { Int(storedMonth) }
        set { storedMonth = Int16(clamping: newValue) }
    }
    public var day: Int {
        get { Int(storedDay) }
        set { storedDay = Int16(clamping: newValue) }
    }
    public var hour: Int {
        get { Int(storedHour) }
        set { storedHour = Int16(clamping: newValue) }
    }
    public var minute: Int {
        get { Int(storedMinute) }
        set { storedMinute = Int16(clamping: newValue) }
    }
    public var second: Int {
        get { Int(storedSecond) }
        set { storedSecond = Int16(clamping: newValue) }
    }

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        storedYear = Int32(clamping: year)
        storedMonth = Int16(clamping: month)
        storedDay = Int16(clamping: day)
        storedHour = Int16(clamping: hour)
        storedMinute = Int16(clamping: minute)
        storedSecond = Int16(clamping: second)
    }

    /// True when every field is in range for the Gregorian calendar (leap years included).
    public var isRealInstant: Bool {
        guard (1...12).contains(month), day >= 1, day <= Self.daysInMonth(year: year, month: month) else {
            return false
        }
        return (0..<24).contains(hour) && (0..<60).contains(minute) && (0..<60).contains(second)
    }

    /// Seconds since 1970-01-01T00:00:00Z, reading the fields as UTC. Only meaningful when
    /// `isRealInstant`.
    public var secondsSinceEpoch: Int64 {
        Int64(Self.daysFromCivil(year: year, month: month, day: day)) * 86_400
            + Int64(hour * 3600 + minute * 60 + second)
    }

    /// The UTC calendar fields of a number of seconds since the Unix epoch.
    public init(secondsSinceEpoch seconds: Int64) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (y, m, d) = Self.civilFromDays(Int(days))
        self.init(
            year: y, month: m, day: d,
            hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60, second: secondOfDay % 60
        )
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days: exact, branch-light, no tables.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension CivilDateTime {
    /// `yyMMddHHmmss` (2 year digits, carscop's header) or `yyyyMMddHHmmss` (4, H02's answers).
    public func compactDigits(yearDigits: Int) -> String {
        var out = yearDigits == 2 ? Self.two(((year % 100) + 100) % 100) : String(year)
        out += Self.two(month) + Self.two(day)
        out += timeDigits
        return out
    }

    /// `HHmmss`, as H02 commands carry the time they were sent.
    public var timeDigits: String {
        Self.two(hour) + Self.two(minute) + Self.two(second)
    }

    private static func two(_ value: Int) -> String {
        value < 10 ? "0\(value)" : String(value)
    }
}
