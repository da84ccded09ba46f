/// A UTC calendar date and time, computed from Unix seconds without Foundation's calendar
/// (which is slow at tens of thousands of frames per second and not needed for UTC).
struct CivilTime: Equatable {
    let year: Int
    let month: Int
    let day: Int
    let hour: Int
    let minute: Int
    let second: Int

    /// Uses Howard Hinnant's `civil_from_days`, exact for the proleptic Gregorian calendar.
    init(unixSeconds: Int64) {
        let secondsPerDay: Int64 = 86_400
        var days = unixSeconds / secondsPerDay
        var secondOfDay = unixSeconds % secondsPerDay
        if secondOfDay < 0 {
            secondOfDay += secondsPerDay
            days -= 1
        }
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        self.year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        self.month = Int(month)
        self.day = Int(day)
        self.hour = Int(secondOfDay / 3600)
        self.minute = Int(secondOfDay % 3600 / 60)
        self.second = Int(secondOfDay % 60)
    }

    /// `yymmdd`, as in the GPS block's date field.
    var yymmdd: String {
        Self.twoDigits(year % 100) + Self.twoDigits(month) + Self.twoDigits(day)
    }

    /// `hhmmss`, as in the GPS block's time field.
    var hhmmss: String {
        Self.twoDigits(hour) + Self.twoDigits(minute) + Self.twoDigits(second)
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : String(value)
    }
}
