import BridgeCore
import Foundation
import Mosquitto

/// Everything `cctr-bridge serve` is configured with, resolved and validated. Each option
/// of `OptionTable` is read as a typed property of the same name (`options.mqttMaxInflight`
/// is an `Int`, `options.idleTimeout` a `Duration`), so an option is declared only in the
/// table. Built by `load(arguments:environment:configFile:)`; precedence is flag,
/// environment, config file, default.
@dynamicMemberLookup
public struct BridgeOptions: Sendable, Equatable {
    /// Option values by flag name, each of its `BridgeOption`'s value type.
    private var values: [String: any Sendable] = [:]
    /// From `devices.<id>` in the config file.
    public var devices: [String: DeviceOverride] = [:]
    /// From `--mqtt-password-file` or `CCTR_MQTT_PASSWORD`; never printed.
    public var mqttPassword: Secret?

    /// One option's value. Every option is set by `load`, so a missing value is a bug here,
    /// not a bad configuration.
    public subscript<Value>(option: BridgeOption<Value>) -> Value {
        get {
            guard let value = values[option.descriptor.name] as? Value else {
                preconditionFailure("--\(option.descriptor.name) was not loaded")
            }
            return value
        }
        set { values[option.descriptor.name] = newValue }
    }

    /// `options.idleTimeout`: the option declared as `OptionTable.idleTimeout`, typed by its
    /// declaration, so no option needs a property here too.
    public subscript<Value>(dynamicMember option: KeyPath<OptionTable, BridgeOption<Value>>) -> Value {
        get { self[OptionTable.declared[keyPath: option]] }
        set { self[OptionTable.declared[keyPath: option]] = newValue }
    }

    public static func == (a: BridgeOptions, b: BridgeOptions) -> Bool {
        a.devices == b.devices && a.mqttPassword == b.mqttPassword && OptionTable.all.allSatisfy { $0.isEqual(a, b) }
    }

    /// The contract's defaults, read from the option table.
    public static let defaults: BridgeOptions = {
        do {
            return try load(arguments: [:], environment: [:], configFile: nil)
        } catch {
            preconditionFailure("the built-in defaults are invalid: \(error)")
        }
    }()

    /// The environment variable holding the MQTT password.
    public static let passwordVariable = "CCTR_MQTT_PASSWORD"
    /// The environment variable naming the config file when `--config` is not given.
    public static let configVariable = "CCTR_CONFIG"

    /// Resolves every option. `arguments` maps a flag name without dashes (`mqtt-url`) to the
    /// values given on the command line (several only for `listen`; `"true"`/`"false"` for
    /// on/off options); `configFile` is the `--config` path, falling back to `CCTR_CONFIG`.
    public static func load(
        arguments: [String: [String]], environment: [String: String], configFile: String?
    ) throws(ConfigurationError) -> BridgeOptions {
        for name in arguments.keys where OptionDescriptor.named(name) == nil {
            throw ConfigurationError(option: name, origin: .flag, reason: "not an option")
        }
        let file = try (configFile ?? environment[configVariable]).map { path throws(ConfigurationError) in
            try ConfigFile.load(path: path)
        }
        let r = OptionResolver(arguments: arguments, environment: environment, file: file)
        var options = BridgeOptions()
        for option in OptionTable.all {
            try option.resolve(r, into: &options)
        }
        try options.checkCombinations(r)
        options.devices = try file.map { file throws(ConfigurationError) in try deviceOverrides(file) } ?? [:]
        options.mqttPassword = try password(r, environment: environment, fileOption: options.mqttPasswordFile)
        return options
    }

    /// `CCTR_*` variables that are not options: likely typos, reported as warnings.
    public static func unknownEnvironmentVariables(in environment: [String: String]) -> [String] {
        let known = Set(OptionDescriptor.all.map(\.environmentVariable) + [passwordVariable, configVariable])
        return environment.keys.filter { $0.hasPrefix("CCTR_") && !known.contains($0) }.sorted()
    }

    /// Per-device time zone and speed unit, for the decoding pipeline.
    public var deviceSettings: DeviceSettingsTable {
        let defaults = DeviceSettings(timeZoneOffsetSeconds: self.deviceTZ, speedUnit: self.speedUnit)
        return DeviceSettingsTable(
            defaults: defaults,
            overrides: devices.mapValues {
                DeviceSettings(
                    timeZoneOffsetSeconds: $0.tz ?? defaults.timeZoneOffsetSeconds,
                    speedUnit: $0.speedUnit ?? defaults.speedUnit)
            })
    }

    /// `--device-password`. Spelled out because `devicePassword(for:)` shares its base name,
    /// which hides the option from dynamic member lookup.
    public var devicePassword: String {
        get { self[OptionTable.declared.devicePassword] }
        set { self[OptionTable.declared.devicePassword] = newValue }
    }

    /// The device password commands to `deviceID` use unless they give `device_password`.
    public func devicePassword(for deviceID: String) -> String {
        devices[deviceID]?.password ?? devicePassword
    }

    /// A shared-subscription group is one topic level: no `/`, `+`, `#` or NUL; empty means
    /// a plain subscription.
    static func isValidShareGroup(_ text: String) -> Bool {
        !text.contains { $0 == "/" || $0 == "+" || $0 == "#" || $0 == "\0" }
    }

    /// Device passwords go inside command frames, so they may not contain the frame's
    /// delimiters.
    static func isValidDevicePassword(_ text: String) -> Bool {
        (1...32).contains(text.utf8.count)
            && text.utf8.allSatisfy { (0x20...0x7E).contains($0) && !"*,#^".utf8.contains($0) }
    }

    private func checkCombinations(_ r: OptionResolver) throws(ConfigurationError) {
        let table = OptionTable.declared
        if self.commandTTL > self.commandTTLMax {
            throw ConfigurationError(
                option: table.commandTTL.descriptor.name, origin: r.origin(of: table.commandTTL.descriptor),
                reason: "\(self.commandTTL.components.seconds) is more than --command-ttl-max (\(self.commandTTLMax.components.seconds))")
        }
        if let first = self.mqttURL.first,
           let odd = self.mqttURL.first(where: { $0.usesTLS != first.usesTLS || $0.username != first.username }) {
            // One client, one login and one TLS setup serve every node: a node that needed
            // another would fail only after a failover, when it is too late to notice.
            throw ConfigurationError(
                option: table.mqttURL.descriptor.name, origin: r.origin(of: table.mqttURL.descriptor),
                reason: "every broker URL needs the same scheme and user as the first (\(first)); \(odd) differs")
        }
        if (self.mqttCertFile == nil) != (self.mqttKeyFile == nil) {
            let given = self.mqttCertFile == nil ? table.mqttKeyFile.descriptor : table.mqttCertFile.descriptor
            throw ConfigurationError(
                option: given.name, origin: r.origin(of: given),
                reason: "--mqtt-cert-file and --mqtt-key-file must be given together")
        }
    }

    private static func deviceOverrides(_ file: ConfigFile) throws(ConfigurationError) -> [String: DeviceOverride] {
        var result: [String: DeviceOverride] = [:]
        for (id, settings) in file.devices {
            var device = DeviceOverride()
            for (key, text) in settings {
                func invalid(_ allowed: String) -> ConfigurationError {
                    ConfigurationError(
                        option: "devices.\(id).\(key)", origin: .file(path: file.path, key: "devices.\(id).\(key)"),
                        reason: "expected \(allowed)")
                }
                switch key {
                case "tz":
                    guard let offset = DeviceSettings.parseOffset(text) else { throw invalid("±HH:MM") }
                    device.tz = offset
                case "speed_unit":
                    guard let unit = SpeedUnit(rawValue: text) else { throw invalid("kmh, knots or mph") }
                    device.speedUnit = unit
                case "password":
                    guard isValidDevicePassword(text) else {
                        throw invalid("1-32 printable ASCII characters except * , # ^")
                    }
                    device.password = text
                default:
                    device.name = text
                }
            }
            result[id] = device
        }
        return result
    }

    /// The password file given as a flag wins over `CCTR_MQTT_PASSWORD`, which wins over a
    /// password file named in the environment or the config file (flag, environment, file).
    private static func password(
        _ r: OptionResolver, environment: [String: String], fileOption: String?
    ) throws(ConfigurationError) -> Secret? {
        let origin = r.origin(of: OptionTable.declared.mqttPasswordFile.descriptor)
        if origin != .flag, let value = environment[passwordVariable] {
            return Secret(value)
        }
        guard let path = fileOption else { return nil }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw ConfigurationError(option: "mqtt-password-file", origin: origin, reason: "cannot read \(path)")
        }
        let password = text.split(maxSplits: 1, omittingEmptySubsequences: false, whereSeparator: \.isNewline).first ?? ""
        guard !password.isEmpty else {
            throw ConfigurationError(option: "mqtt-password-file", origin: origin, reason: "the first line of \(path) is empty")
        }
        return Secret(String(password))
    }
}
