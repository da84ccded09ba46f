/// Per-device interpretation of what the tracker sends: the time zone of its header and the
/// unit of its speed field. Defaults come from `--device-tz` / `--speed-unit`, overrides from
/// `devices.<id>` in the config file.
public struct DeviceSettings: Sendable, Equatable {
    /// Offset of the device's header clock from UTC, in seconds (`+08:00` = 28800).
    public var timeZoneOffsetSeconds: Int
    public var speedUnit: SpeedUnit

    public init(timeZoneOffsetSeconds: Int = 0, speedUnit: SpeedUnit = .kmh) {
        self.timeZoneOffsetSeconds = timeZoneOffsetSeconds
        self.speedUnit = speedUnit
    }

    /// Parses `±HH:MM` (also `±HH`, `±HHMM`, and `Z`), as in `--device-tz` and `setTimezone`.
    public static func parseOffset(_ text: String) -> Int? {
        if text == "Z" || text == "z" { return 0 }
        let chars = Array(text.utf8)
        guard let sign = chars.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return nil }
        let digits = chars.dropFirst().filter { $0 != UInt8(ascii: ":") }
        guard digits.count == 2 || digits.count == 4, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            chars.count == 1 + digits.count || (chars.count == 6 && chars[3] == UInt8(ascii: ":"))
        else { return nil }
        let values = digits.map { Int($0 - 0x30) }
        let hours = values[0] * 10 + values[1]
        let minutes = digits.count == 4 ? values[2] * 10 + values[3] : 0
        guard hours <= 14, minutes < 60 else { return nil }
        let seconds = hours * 3600 + minutes * 60
        return sign == UInt8(ascii: "-") ? -seconds : seconds
    }

    /// `+08:00` for 28800.
    public static func formatOffset(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let magnitude = abs(seconds) / 60
        let hours = magnitude / 60
        let minutes = magnitude % 60
        return sign + (hours < 10 ? "0" : "") + String(hours) + ":" + (minutes < 10 ? "0" : "") + String(minutes)
    }
}

/// The unit a device writes its speed in; payloads always carry km/h.
public enum SpeedUnit: String, Sendable, CaseIterable {
    case kmh, knots, mph

    public var kilometresPerHour: Double {
        switch self {
        case .kmh: 1
        case .knots: 1.852
        case .mph: 1.609344
        }
    }
}

/// Default settings plus per-device overrides, looked up by device id.
public struct DeviceSettingsTable: Sendable {
    public var defaults: DeviceSettings
    public var overrides: [String: DeviceSettings]

    public init(defaults: DeviceSettings = DeviceSettings(), overrides: [String: DeviceSettings] = [:]) {
        self.defaults = defaults
        self.overrides = overrides
    }

    public subscript(deviceID: String) -> DeviceSettings {
        overrides[deviceID] ?? defaults
    }
}
