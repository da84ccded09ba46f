import BridgeCore
import Foundation

extension BridgeOptions {
    /// The resolved options as a JSON config file (`--print-config`): config keys, typed
    /// values, unset options as `null`, the `devices` section. Loading it with `--config`
    /// gives the same options back. The MQTT password is never part of it; only
    /// `mqtt.password.file`, the path it came from, is.
    public func configFileJSON() -> String {
        var values: [String: Any] = [:]
        for option in OptionTable.all {
            values[option.descriptor.configKey] = option.printed(self) ?? NSNull()
        }
        values["devices"] = devices.mapValues { device -> [String: Any] in
            var settings: [String: Any] = [:]
            if let tz = device.tz { settings["tz"] = DeviceSettings.formatOffset(tz) }
            if let unit = device.speedUnit { settings["speed_unit"] = unit.rawValue }
            if let password = device.password { settings["password"] = password }
            if let name = device.name { settings["name"] = name }
            return settings
        }
        do {
            let data = try JSONSerialization.data(
                withJSONObject: values, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        } catch {
            preconditionFailure("options are always serializable: \(error)")
        }
    }
}
