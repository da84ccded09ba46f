/// One option of `cctr-bridge serve`, as the contract's command-line table lists it. The
/// table below is the single source of the option's flag, environment variable, config-file
/// key, default, help text and allowed values: the flag help, `docs/configuration.md` and
/// the loader all read it, so they cannot disagree.
public struct OptionDescriptor: Sendable, Equatable {
    /// The flag name without dashes, e.g. `mqtt-session-expiry`.
    public let name: String
    /// The default as the contract writes it; `nil` when the option is unset by default.
    public let defaultText: String?
    public let help: String
    public let kind: Kind

    /// How a value is written, which decides its parsing and the words in its help.
    public enum Kind: Sendable, Equatable {
        /// Free text, checked by the option's own rule (described in `allowed`).
        case text(allowed: String)
        /// A file path or text whose absence means "off"; an empty value also means unset.
        case optionalText(allowed: String)
        /// A whole number within the range.
        case integer(ClosedRange<Int>, unit: String?)
        /// On or off; a flag with `--no-` inversion on the command line.
        case flag
        /// One of the listed words.
        case choice([String])
        /// Several addresses: the flag repeats; environment and file take a comma-separated
        /// string or a list.
        case list(allowed: String)
    }

    /// `--mqtt-session-expiry`.
    public var flag: String { "--" + name }

    /// `CCTR_MQTT_SESSION_EXPIRY`.
    public var environmentVariable: String {
        "CCTR_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// `mqtt.session.expiry`.
    public var configKey: String { name.replacingOccurrences(of: "-", with: ".") }

    /// What a valid value looks like, in words, for help texts and error messages.
    public var allowed: String {
        switch kind {
        case .text(let allowed), .optionalText(let allowed), .list(let allowed):
            allowed
        case .integer(let range, let unit):
            "a whole number from \(range.lowerBound) to \(range.upperBound)" + (unit.map { " (\($0))" } ?? "")
        case .flag:
            "true or false"
        case .choice(let words):
            words.dropLast().joined(separator: ", ") + " or " + (words.last ?? "")
        }
    }

    /// The help line of the flag: meaning, allowed values, default, environment variable.
    public var flagHelp: String {
        "\(help) Allowed: \(allowed). Default: \(defaultText ?? "none"). Env: \(environmentVariable)."
    }

    public static func named(_ name: String) -> OptionDescriptor? {
        all.first { $0.name == name }
    }

    /// Every option of the contract's table, in its order.
    public static let all: [OptionDescriptor] = [
        .init(
            name: "listen", defaultText: "0.0.0.0:8888",
            help: "Device listener; repeatable. tcp:// or udp:// limits it to one transport.",
            kind: .list(allowed: "[tcp://|udp://]HOST:PORT, IPv6 as [::]:8888, port 0-65535")),
        .init(
            name: "mqtt-url", defaultText: "mqtt://127.0.0.1:1883",
            help: "Broker URL. The password comes from CCTR_MQTT_PASSWORD or --mqtt-password-file, never the URL.",
            kind: .text(allowed: "mqtt://[user@]host:port or mqtts://[user@]host:port")),
        .init(
            name: "h02-binary-length", defaultText: "auto",
            help: "Length of H02 binary ($) frames over TCP; auto reads it from the connection's first one.",
            kind: .choice(["auto", "32", "42", "45"])),
        .init(
            name: "mqtt-ca-file", defaultText: nil, help: "TLS: CA bundle to verify the broker.",
            kind: .optionalText(allowed: "a file path")),
        .init(
            name: "mqtt-cert-file", defaultText: nil, help: "TLS: client certificate (needs --mqtt-key-file).",
            kind: .optionalText(allowed: "a file path")),
        .init(
            name: "mqtt-key-file", defaultText: nil, help: "TLS: client key (needs --mqtt-cert-file).",
            kind: .optionalText(allowed: "a file path")),
        .init(
            name: "mqtt-session-expiry", defaultText: "300",
            help: "MQTT 5 session expiry (3.1.1: persistent session); client id cctr-bridge-<instance>.",
            kind: .integer(0...4_294_967_295, unit: "seconds")),
        .init(
            name: "mqtt-max-inflight", defaultText: "256",
            help: "QoS 1 publishes awaiting PUBACK at once (the send window); libmosquitto's cost per PUBACK grows with it.",
            kind: .integer(1...65_535, unit: "messages")),
        .init(
            name: "topic-base", defaultText: "cctr", help: "Topic base of every topic.",
            kind: .text(
                allowed: "topic levels separated by /, not starting with $, no empty level, no +, # or NUL")),
        .init(
            name: "instance", defaultText: "main",
            help: "Instance name; names retained topics, so keep it stable (not the host name).",
            kind: .text(allowed: "1-32 characters of A-Z a-z 0-9 _ -")),
        .init(
            name: "metrics-listen", defaultText: "127.0.0.1:9888", help: "HTTP address of /metrics, /healthz, /readyz.",
            kind: .text(allowed: "HOST:PORT, IPv6 as [::1]:9888")),
        .init(
            name: "spool-dir", defaultText: nil,
            help: "Spool directory; none = a bounded memory queue that a restart loses.",
            kind: .optionalText(allowed: "a directory path")),
        .init(
            name: "spool-sync", defaultText: "interval",
            help: "When the spool is fsynced; publishing waits for fsync only with always.",
            kind: .choice(["always", "interval", "never"])),
        .init(
            name: "spool-sync-interval", defaultText: "100", help: "Time between spool fsyncs with --spool-sync interval.",
            kind: .integer(1...60_000, unit: "milliseconds")),
        .init(
            name: "spool-max-bytes", defaultText: "1073741824", help: "Largest spool size.",
            kind: .integer(1...Int.max, unit: "bytes")),
        .init(
            name: "spool-full", defaultText: "drop-oldest",
            help: "What a full spool does: drop its oldest messages, or block (backpressure to devices).",
            kind: .choice(["drop-oldest", "block"])),
        .init(
            name: "commands", defaultText: nil, help: "Command template file; none = the built-in templates.",
            kind: .optionalText(allowed: "a file path")),
        .init(
            name: "device-tz", defaultText: "+00:00", help: "Time-zone offset of the device header clock.",
            kind: .text(allowed: "±HH:MM from -14:00 to +14:00")),
        .init(
            name: "speed-unit", defaultText: "kmh", help: "Unit of the device's speed field; payloads are always km/h.",
            kind: .choice(["kmh", "knots", "mph"])),
        .init(
            name: "max-frame-bytes", defaultText: "1024", help: "Longest accepted text frame, from its first byte to its terminator (^ or #) inclusive.",
            kind: .integer(20...1_048_576, unit: "bytes")),
        .init(
            name: "idle-timeout", defaultText: "1800", help: "Time without a frame before a session is closed.",
            kind: .integer(1...604_800, unit: "seconds")),
        .init(
            name: "status-interval", defaultText: "60", help: "Time between last_seen refreshes on <base>/<id>/status.",
            kind: .integer(1...86_400, unit: "seconds")),
        .init(
            name: "publish-raw", defaultText: "false", help: "Publish each raw frame on <base>/<id>/raw (QoS 0).",
            kind: .flag),
        .init(
            name: "allowlist", defaultText: nil, help: "File of device ids, one per line; none = every valid id.",
            kind: .optionalText(allowed: "a file path")),
        .init(
            name: "ha-discovery", defaultText: "false", help: "Publish Home Assistant device discovery.", kind: .flag),
        .init(
            name: "ha-prefix", defaultText: "homeassistant", help: "Home Assistant discovery prefix.",
            kind: .text(
                allowed: "topic levels separated by /, not starting with $, no empty level, no +, # or NUL")),
        .init(
            name: "owntracks-base", defaultText: nil, help: "OwnTracks topic base; none = OwnTracks output off.",
            kind: .optionalText(
                allowed: "topic levels separated by /, not starting with $, no empty level, no +, # or NUL")),
        .init(
            name: "share-group", defaultText: "cctr-bridge",
            help: "Shared subscription group for commands; empty = a plain subscription (one instance only).",
            kind: .text(allowed: "empty, or one topic level without /, +, # or NUL")),
        .init(
            name: "shutdown-timeout", defaultText: "5",
            help: "The whole shutdown on SIGTERM: waiting for publishes in flight, the bridge offline state and the disconnect, even from a broker that stopped answering.",
            kind: .integer(0...3600, unit: "seconds")),
        .init(
            name: "mqtt-password-file", defaultText: nil,
            help: "File whose first line is the MQTT password (CCTR_MQTT_PASSWORD also works).",
            kind: .optionalText(allowed: "a file path")),
        .init(
            name: "device-password", defaultText: "123456", help: "Default device password for command templates.",
            kind: .text(allowed: "1-32 printable ASCII characters except * , # ^")),
        .init(
            name: "command-ttl", defaultText: "300", help: "Default ttl_s of a command.",
            kind: .integer(1...86_400, unit: "seconds, at most --command-ttl-max")),
        .init(
            name: "command-ttl-max", defaultText: "86400", help: "Largest ttl_s a command may ask for.",
            kind: .integer(1...86_400, unit: "seconds")),
        .init(
            name: "udp-reply-window", defaultText: "60",
            help: "Time after a UDP device's last datagram during which commands can be sent to it.",
            kind: .integer(1...86_400, unit: "seconds")),
        .init(
            name: "held-frames-max", defaultText: "64", help: "Frames held per session before a login.",
            kind: .integer(1...100_000, unit: nil)),
        .init(
            name: "held-frames-age", defaultText: "600", help: "Longest time a frame is held before a login.",
            kind: .integer(1...86_400, unit: "seconds")),
        .init(
            name: "max-connections", defaultText: "100000", help: "Most device sessions at once.",
            kind: .integer(1...10_000_000, unit: nil)),
        .init(
            name: "max-connections-per-ip", defaultText: "0",
            help: "Most sessions per source IP; 0 = off (trackers behind carrier NAT share addresses).",
            kind: .integer(0...10_000_000, unit: nil)),
        .init(
            name: "frame-rate-limit", defaultText: "100",
            help: "Frames per second per session (burst 1000); 0 = off. Excess pauses reading (backpressure).",
            kind: .integer(0...1_000_000, unit: "frames per second")),
        .init(name: "log-format", defaultText: "text", help: "Log line format.", kind: .choice(["text", "json"])),
        .init(
            name: "log-level", defaultText: "info", help: "Lowest level logged.",
            kind: .choice(["trace", "debug", "info", "notice", "warning", "error", "critical"])),
    ]
}
