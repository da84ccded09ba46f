import BridgeCore
import TrackerCodec
import Foundation
import Logging
import Mosquitto

/// Everything `cctr-bridge serve` is configured with, resolved and validated: one typed
/// property per option of the contract's command-line table (see `OptionDescriptor.all`).
/// Built by `load(arguments:environment:configFile:)`; precedence is flag, environment,
/// config file, default.
public struct BridgeOptions: Sendable, Equatable {
    /// Device listeners (`--listen`, repeatable).
    public var listen: [ListenAddress]
    /// Broker URL without password; `brokerURL` is its parsed form.
    public var mqttURL: String
    public var mqttCAFile: String?
    public var mqttCertFile: String?
    public var mqttKeyFile: String?
    /// Seconds.
    public var mqttSessionExpiry: Int
    /// QoS 1 publishes awaiting their PUBACK at once: the pipeline's window and
    /// libmosquitto's `MOSQ_OPT_SEND_MAXIMUM`.
    public var mqttMaxInflight: Int
    public var topicBase: String
    public var instance: String
    /// Always `.tcp`.
    public var metricsListen: ListenAddress
    /// `nil`: a bounded in-memory queue that a restart loses.
    public var spoolDir: String?
    public var spoolSync: SpoolSyncMode
    /// Milliseconds.
    public var spoolSyncInterval: Int
    public var spoolMaxBytes: Int
    public var spoolFull: SpoolFullPolicy
    /// Command template file; `nil`: the built-in templates.
    public var commands: String?
    /// Header clock offset from UTC in seconds (`+08:00` = 28800).
    public var deviceTZ: Int
    public var speedUnit: SpeedUnit
    public var maxFrameBytes: Int
    /// `--h02-binary-length`.
    public var h02BinaryLength: H02BinaryLength
    /// Seconds.
    public var idleTimeout: Int
    /// Seconds.
    public var statusInterval: Int
    public var publishRaw: Bool
    public var allowlist: String?
    public var haDiscovery: Bool
    public var haPrefix: String
    /// `nil`: OwnTracks output off.
    public var owntracksBase: String?
    /// Empty: a plain subscription (single instance only).
    public var shareGroup: String
    /// Seconds.
    public var shutdownTimeout: Int
    public var mqttPasswordFile: String?
    public var devicePassword: String
    /// Seconds.
    public var commandTTL: Int
    /// Seconds.
    public var commandTTLMax: Int
    /// Seconds.
    public var udpReplyWindow: Int
    public var heldFramesMax: Int
    /// Seconds.
    public var heldFramesAge: Int
    public var maxConnections: Int
    /// 0 = off.
    public var maxConnectionsPerIP: Int
    /// Frames per second per session; 0 = off.
    public var frameRateLimit: Int
    public var logFormat: LogFormat
    public var logLevel: Logger.Level
    /// From `devices.<id>` in the config file.
    public var devices: [String: DeviceOverride]
    /// From `--mqtt-password-file` or `CCTR_MQTT_PASSWORD`; never printed.
    public var mqttPassword: Secret?

    /// The contract's defaults, read from the descriptor table.
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
        var r = OptionResolver(arguments: arguments, environment: environment, file: file)
        let topicPrefix: (String) -> String? = { TopicLayout.isValidTopicPrefix($0) ? $0 : nil }
        var options = BridgeOptions(
            listen: try r.list("listen") { ListenAddress($0) },
            mqttURL: try r.value("mqtt-url", explaining: { text throws(MQTTURL.ParseError) in _ = try MQTTURL(text); return text }),
            mqttCAFile: try r.optional("mqtt-ca-file") { $0 },
            mqttCertFile: try r.optional("mqtt-cert-file") { $0 },
            mqttKeyFile: try r.optional("mqtt-key-file") { $0 },
            mqttSessionExpiry: try r.integer("mqtt-session-expiry"),
            mqttMaxInflight: try r.integer("mqtt-max-inflight"),
            topicBase: try r.value("topic-base", topicPrefix),
            instance: try r.value("instance") { text in
                (try? TopicLayout(instance: text)) != nil ? text : nil
            },
            metricsListen: try r.value("metrics-listen") { text in
                ListenAddress(text).flatMap { $0.transport == .udp ? nil : ListenAddress(transport: .tcp, host: $0.host, port: $0.port) }
            },
            spoolDir: try r.optional("spool-dir") { $0 },
            spoolSync: try r.value("spool-sync") { SpoolSyncMode(rawValue: $0) },
            spoolSyncInterval: try r.integer("spool-sync-interval"),
            spoolMaxBytes: try r.integer("spool-max-bytes"),
            spoolFull: try r.value("spool-full") { SpoolFullPolicy(rawValue: $0) },
            commands: try r.optional("commands") { $0 },
            deviceTZ: try r.value("device-tz") { DeviceSettings.parseOffset($0) },
            speedUnit: try r.value("speed-unit") { SpeedUnit(rawValue: $0) },
            maxFrameBytes: try r.integer("max-frame-bytes"),
            h02BinaryLength: try r.value("h02-binary-length") { H02BinaryLength($0) },
            idleTimeout: try r.integer("idle-timeout"),
            statusInterval: try r.integer("status-interval"),
            publishRaw: try r.flag("publish-raw"),
            allowlist: try r.optional("allowlist") { $0 },
            haDiscovery: try r.flag("ha-discovery"),
            haPrefix: try r.value("ha-prefix", topicPrefix),
            owntracksBase: try r.optional("owntracks-base", topicPrefix),
            shareGroup: try r.value("share-group") { isValidShareGroup($0) ? $0 : nil },
            shutdownTimeout: try r.integer("shutdown-timeout"),
            mqttPasswordFile: try r.optional("mqtt-password-file") { $0 },
            devicePassword: try r.value("device-password") { isValidDevicePassword($0) ? $0 : nil },
            commandTTL: try r.integer("command-ttl"),
            commandTTLMax: try r.integer("command-ttl-max"),
            udpReplyWindow: try r.integer("udp-reply-window"),
            heldFramesMax: try r.integer("held-frames-max"),
            heldFramesAge: try r.integer("held-frames-age"),
            maxConnections: try r.integer("max-connections"),
            maxConnectionsPerIP: try r.integer("max-connections-per-ip"),
            frameRateLimit: try r.integer("frame-rate-limit"),
            logFormat: try r.value("log-format") { LogFormat(rawValue: $0) },
            logLevel: try r.value("log-level") { Logger.Level(rawValue: $0) },
            devices: [:],
            mqttPassword: nil
        )
        assert(r.consumed == Set(OptionDescriptor.all.map(\.name)), "every descriptor must be read exactly once")
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

    /// The parsed `mqttURL`; `nil` only when `mqttURL` was changed to something invalid.
    public var brokerURL: MQTTURL? { try? MQTTURL(mqttURL) }

    /// Per-device time zone and speed unit, for the decoding pipeline.
    public var deviceSettings: DeviceSettingsTable {
        let defaults = DeviceSettings(timeZoneOffsetSeconds: deviceTZ, speedUnit: speedUnit)
        return DeviceSettingsTable(
            defaults: defaults,
            overrides: devices.mapValues {
                DeviceSettings(
                    timeZoneOffsetSeconds: $0.tz ?? defaults.timeZoneOffsetSeconds,
                    speedUnit: $0.speedUnit ?? defaults.speedUnit)
            })
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
        if commandTTL > commandTTLMax {
            throw ConfigurationError(
                option: "command-ttl", origin: r.origin(of: "command-ttl"),
                reason: "\(commandTTL) is more than --command-ttl-max (\(commandTTLMax))")
        }
        if (mqttCertFile == nil) != (mqttKeyFile == nil) {
            let given = mqttCertFile == nil ? "mqtt-key-file" : "mqtt-cert-file"
            throw ConfigurationError(
                option: given, origin: r.origin(of: given),
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
        let origin = r.origin(of: "mqtt-password-file")
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
