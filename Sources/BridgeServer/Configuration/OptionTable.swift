import BridgeCore
import Logging
import Mosquitto
import Spool
import TrackerCodec

/// Every option of `cctr-bridge serve`, in the order of the contract's command-line table
/// (plus this project's additions). Each stored property is the whole declaration of one
/// option; `BridgeOptions` reads it by the property's name (`options.mqttMaxInflight`), and
/// the loader, `--help`, `--print-config` and docs/configuration.md walk `all`.
///
/// A table of our own rather than swift-configuration: its readers return the default when a
/// value is missing *or invalid* (the silent fallback the bridge must not have), its required
/// readers throw without saying which provider held the bad value, and its providers cannot
/// list a file's keys, which rejecting unknown keys needs. See docs/configuration.md.
public struct OptionTable: Sendable {
    public let listen: BridgeOption<[ListenAddress]> = .list(
        "listen", default: [ListenAddress(transport: .both, host: "0.0.0.0", port: 8888)],
        allowed: "[tcp://|udp://]HOST:PORT, IPv6 as [::]:8888, port 0-65535",
        help: "Device listener; repeatable. tcp:// or udp:// limits it to one transport.",
        parse: { ListenAddress($0) }, print: { $0.description })

    /// Broker URLs without password: the nodes of one cluster, tried in turn (all with one
    /// scheme and one user, since they share the password and TLS settings).
    public let mqttURL: BridgeOption<[MQTTURL]> = .list(
        "mqtt-url", default: [MQTTURL(host: "127.0.0.1")], allowed: "mqtt://[user@]host:port or mqtts://[user@]host:port",
        help: "Broker URL; repeat it (env and config file: a list) for more cluster nodes, tried in order on connection loss. "
            + "The password comes from CCTR_MQTT_PASSWORD or --mqtt-password-file, never the URL.",
        explaining: { text throws(MQTTURL.ParseError) in try MQTTURL(text) }, print: { $0.description })

    public let mqttProtocol: BridgeOption<MQTTProtocolSetting> = .parsed(
        "mqtt-protocol", default: .auto, .choice(MQTTProtocolSetting.allCases.map(\.rawValue)),
        help: "MQTT version: auto (5, falling back to 3.1.1 on a refusal or a connection closed before CONNACK), 5, or 3.1.1.",
        parse: { MQTTProtocolSetting(rawValue: $0) }, print: { $0.rawValue })

    /// `nil`: the status page and `/api/` are open to whoever reaches `--metrics-listen`.
    public let httpToken: BridgeOption<String?> = .optional(
        "http-token", allowed: "printable ASCII without spaces",
        help: "Protects the status page / and /api/ (Authorization: Bearer T, or ?token=T); /healthz, /readyz, /metrics stay open.",
        isValid: { token in token.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } })

    public let h02BinaryLength: BridgeOption<H02BinaryLength> = .parsed(
        "h02-binary-length", default: .auto, .choice(["auto"] + H02BinaryLength.lengths.map(String.init)),
        help: "Length of H02 binary ($) frames over TCP; auto reads it from the connection's first one.",
        parse: { H02BinaryLength($0) }, print: { $0.description })

    public let mqttCAFile: BridgeOption<String?> = .optional(
        "mqtt-ca-file", allowed: "a file path", help: "TLS: CA bundle to verify the broker.")

    public let mqttCertFile: BridgeOption<String?> = .optional(
        "mqtt-cert-file", allowed: "a file path", help: "TLS: client certificate (needs --mqtt-key-file).")

    public let mqttKeyFile: BridgeOption<String?> = .optional(
        "mqtt-key-file", allowed: "a file path", help: "TLS: client key (needs --mqtt-cert-file).")

    public let mqttSessionExpiry: BridgeOption<Duration> = .seconds(
        "mqtt-session-expiry", default: 300, 0...4_294_967_295,
        help: "MQTT 5 session expiry (3.1.1: persistent session); client id cctr-bridge-<instance>.")

    /// QoS 1 publishes awaiting their PUBACK at once: the pipeline's window and
    /// libmosquitto's `MOSQ_OPT_SEND_MAXIMUM`.
    public let mqttMaxInflight: BridgeOption<Int> = .integer(
        "mqtt-max-inflight", default: 256, 1...65_535, unit: "messages",
        help: "QoS 1 publishes awaiting PUBACK at once (the send window); libmosquitto's cost per PUBACK grows with it.")

    public let topicBase: BridgeOption<String> = .text(
        "topic-base", default: "cctr", allowed: topicLevels, help: "Topic base of every topic.",
        isValid: { TopicLayout.isValidTopicPrefix($0) })

    public let instance: BridgeOption<String> = .text(
        "instance", default: "main", allowed: "1-32 characters of A-Z a-z 0-9 _ -",
        help: "Instance name; names retained topics, so keep it stable (not the host name).",
        isValid: { (try? TopicLayout(instance: $0)) != nil })

    /// Always `.tcp`: the HTTP endpoints have no UDP side.
    public let metricsListen: BridgeOption<ListenAddress> = .parsed(
        "metrics-listen", default: ListenAddress(transport: .tcp, host: "127.0.0.1", port: 9888),
        .text(allowed: "HOST:PORT, IPv6 as [::1]:9888"), help: "HTTP address of the status page / and /api/, and of /metrics, /healthz, /readyz.",
        parse: { text in
            ListenAddress(text).flatMap { $0.transport == .udp ? nil : ListenAddress(transport: .tcp, host: $0.host, port: $0.port) }
        },
        print: { $0.hostAndPort })

    /// `nil`: a bounded in-memory queue that a restart loses.
    public let spoolDir: BridgeOption<String?> = .optional(
        "spool-dir", allowed: "a directory path",
        help: "Spool directory; none = a bounded memory queue that a restart loses.")

    public let spoolSync: BridgeOption<SpoolConfiguration.SyncMode> = .choice(
        "spool-sync", default: .interval, help: "When the spool is fsynced; publishing waits for fsync only with always.")

    public let spoolSyncInterval: BridgeOption<Duration> = .milliseconds(
        "spool-sync-interval", default: 100, 1...60_000, help: "Time between spool fsyncs with --spool-sync interval.")

    public let spoolMaxBytes: BridgeOption<Int> = .integer(
        "spool-max-bytes", default: 1_073_741_824, 1...Int.max, unit: "bytes", help: "Largest spool size.")

    public let spoolFull: BridgeOption<SpoolConfiguration.FullPolicy> = .choice(
        "spool-full", default: .dropOldest,
        help: "What a full spool does: drop its oldest messages, or block (backpressure to devices).")

    /// Command template file; `nil`: the built-in templates.
    public let commands: BridgeOption<String?> = .optional(
        "commands", allowed: "a file path", help: "Command template file; none = the built-in templates.")

    /// Header clock offset from UTC in seconds (`+08:00` = 28800).
    public let deviceTZ: BridgeOption<Int> = .parsed(
        "device-tz", default: 0, .text(allowed: "±HH:MM from -14:00 to +14:00"),
        help: "Time-zone offset of the device header clock.",
        parse: { DeviceSettings.parseOffset($0) }, print: { DeviceSettings.formatOffset($0) })

    public let speedUnit: BridgeOption<SpeedUnit> = .choice(
        "speed-unit", default: .kmh, help: "Unit of the device's speed field; payloads are always km/h.")

    public let maxFrameBytes: BridgeOption<Int> = .integer(
        "max-frame-bytes", default: 1024, 20...1_048_576, unit: "bytes",
        help: "Longest accepted text frame, from its first byte to its terminator (^ or #) inclusive.")

    public let idleTimeout: BridgeOption<Duration> = .seconds(
        "idle-timeout", default: 1800, 1...604_800, help: "Time without a frame before a session is closed.")

    public let statusInterval: BridgeOption<Duration> = .seconds(
        "status-interval", default: 60, 1...86_400, help: "Time between last_seen refreshes on <base>/<id>/status.")

    public let publishRaw: BridgeOption<Bool> = .flag(
        "publish-raw", help: "Publish each raw frame on <base>/<id>/raw (QoS 0).")

    public let allowlist: BridgeOption<String?> = .optional(
        "allowlist", allowed: "a file path", help: "File of device ids, one per line; none = every valid id.")

    public let haDiscovery: BridgeOption<Bool> = .flag("ha-discovery", help: "Publish Home Assistant device discovery.")

    public let haPrefix: BridgeOption<String> = .text(
        "ha-prefix", default: "homeassistant", allowed: topicLevels, help: "Home Assistant discovery prefix.",
        isValid: { TopicLayout.isValidTopicPrefix($0) })

    /// `nil`: OwnTracks output off.
    public let owntracksBase: BridgeOption<String?> = .optional(
        "owntracks-base", allowed: topicLevels, help: "OwnTracks topic base; none = OwnTracks output off.",
        isValid: { TopicLayout.isValidTopicPrefix($0) })

    /// Empty: commands are broadcast to every instance (`docs/scaling.md`).
    public let shareGroup: BridgeOption<String> = .text(
        "share-group", default: "cctr-bridge", allowed: "empty, or one topic level without /, +, # or NUL",
        help: "Shared subscription group for commands, used where the broker offers $share (MQTT 5); empty = every instance subscribes <base>/+/cmd and only the device's owner acts (any broker, any number of instances).",
        isValid: { BridgeOptions.isValidShareGroup($0) })

    public let shutdownTimeout: BridgeOption<Duration> = .seconds(
        "shutdown-timeout", default: 5, 0...3600,
        help: "The whole shutdown on SIGTERM: waiting for publishes in flight, the bridge offline state and the disconnect, even from a broker that stopped answering.")

    public let mqttPasswordFile: BridgeOption<String?> = .optional(
        "mqtt-password-file", allowed: "a file path",
        help: "File whose first line is the MQTT password (CCTR_MQTT_PASSWORD also works).")

    public let devicePassword: BridgeOption<String> = .text(
        "device-password", default: "123456", allowed: "1-32 printable ASCII characters except * , # ^",
        help: "Default device password for command templates.", isValid: { BridgeOptions.isValidDevicePassword($0) })

    public let commandTTL: BridgeOption<Duration> = .seconds(
        "command-ttl", default: 300, 1...86_400, unit: "seconds, at most --command-ttl-max",
        help: "Default ttl_s of a command.")

    public let commandTTLMax: BridgeOption<Duration> = .seconds(
        "command-ttl-max", default: 86_400, 1...86_400, help: "Largest ttl_s a command may ask for.")

    public let udpReplyWindow: BridgeOption<Duration> = .seconds(
        "udp-reply-window", default: 60, 1...86_400,
        help: "Time after a UDP device's last datagram during which commands can be sent to it.")

    public let heldFramesMax: BridgeOption<Int> = .integer(
        "held-frames-max", default: 64, 1...100_000, help: "Frames held per session before a login.")

    public let heldFramesAge: BridgeOption<Duration> = .seconds(
        "held-frames-age", default: 600, 1...86_400, help: "Longest time a frame is held before a login.")

    public let maxConnections: BridgeOption<Int> = .integer(
        "max-connections", default: 100_000, 1...10_000_000, help: "Most device sessions at once.")

    /// 0 = off.
    public let maxConnectionsPerIP: BridgeOption<Int> = .integer(
        "max-connections-per-ip", default: 0, 0...10_000_000,
        help: "Most sessions per source IP; 0 = off (trackers behind carrier NAT share addresses).")

    /// Frames per second per session; 0 = off.
    public let frameRateLimit: BridgeOption<Int> = .integer(
        "frame-rate-limit", default: 100, 0...1_000_000, unit: "frames per second",
        help: "Frames per second per session (burst 1000); 0 = off. Excess pauses reading (backpressure).")

    public let traceStages: BridgeOption<Bool> = .flag(
        "trace-stages",
        help: "Time each stage of a frame (decode, hub, spool append and wait, publish call, PUBACK) and serve p50/p90/p99 at /debug/stages; for performance work.")

    public let logFormat: BridgeOption<LogFormat> = .choice("log-format", default: .text, help: "Log line format.")

    public let logLevel: BridgeOption<Logger.Level> = .choice("log-level", default: .info, help: "Lowest level logged.")

    /// The one instance; options are looked up in it by key path.
    public static let declared = OptionTable()

    /// The declarations in order. Read by reflection so that a new option is one stored
    /// property above and nothing else: a hand-kept list would be a second place to forget.
    static let all: [any TableOption] = Mirror(reflecting: declared).children.compactMap { $0.value as? any TableOption }
}

/// The words for options that take MQTT topic levels.
private let topicLevels = "topic levels separated by /, not starting with $, no empty level, no +, # or NUL"
