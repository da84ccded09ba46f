import TrackerCodec

/// A UTC calendar date and time, computed from Unix seconds without Foundation's calendar
/// (which is slow at tens of thousands of frames per second and not needed for UTC).
struct CivilTime: Equatable {
    let year: Int
    let month: Int
    let day: Int
    let hour: Int
    let minute: Int
    let second: Int

    /// The codec's calendar arithmetic (exact for the proleptic Gregorian calendar, no
    /// Foundation), so the simulator and the bridge agree on every date.
    init(unixSeconds: Int64) {
        let civil = CivilDateTime(secondsSinceEpoch: unixSeconds)
        year = civil.year
        month = civil.month
        day = civil.day
        hour = civil.hour
        minute = civil.minute
        second = civil.second
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
