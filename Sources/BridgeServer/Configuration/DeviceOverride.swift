import BridgeCore

/// Settings of one device from `devices.<id>` in the config file; `nil` fields fall back to
/// the global options (`--device-tz`, `--speed-unit`, `--device-password`).
public struct DeviceOverride: Sendable, Equatable {
    /// Header clock offset from UTC in seconds.
    public var tz: Int?
    public var speedUnit: SpeedUnit?
    /// Default `device_password` of this device's commands.
    public var password: String?
    /// Display name (Home Assistant).
    public var name: String?

    public init(tz: Int? = nil, speedUnit: SpeedUnit? = nil, password: String? = nil, name: String? = nil) {
        self.tz = tz
        self.speedUnit = speedUnit
        self.password = password
        self.name = name
    }

    /// The keys accepted under `devices.<id>`.
    public static let keys = ["tz", "speed_unit", "password", "name"]
}
