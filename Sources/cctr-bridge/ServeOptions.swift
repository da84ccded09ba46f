import ArgumentParser
import BridgeServer
import Foundation

/// Every option of the contract's table, shared by `serve` and `forget` (which needs the
/// same broker and topics). Each option is an optional flag so that "not given" falls
/// through to the environment and the file; help texts come from `OptionDescriptor.all`.
struct ServeOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp("JSON or YAML config file (.json, .yaml, .yml). Default: none. Env: CCTR_CONFIG.", valueName: "path"))
    var config: String?

    @Option(name: .customLong("listen"), help: help("listen"))
    var listen: [String] = []

    @Option(name: .customLong("mqtt-url"), help: help("mqtt-url"))
    var mqttURL: String?

    @Option(name: .customLong("h02-binary-length"), help: help("h02-binary-length"))
    var h02BinaryLength: String?

    @Option(name: .customLong("mqtt-ca-file"), help: help("mqtt-ca-file"))
    var mqttCAFile: String?

    @Option(name: .customLong("mqtt-cert-file"), help: help("mqtt-cert-file"))
    var mqttCertFile: String?

    @Option(name: .customLong("mqtt-key-file"), help: help("mqtt-key-file"))
    var mqttKeyFile: String?

    @Option(name: .customLong("mqtt-session-expiry"), help: help("mqtt-session-expiry"))
    var mqttSessionExpiry: String?

    @Option(name: .customLong("mqtt-max-inflight"), help: help("mqtt-max-inflight"))
    var mqttMaxInflight: String?

    @Option(name: .customLong("topic-base"), help: help("topic-base"))
    var topicBase: String?

    @Option(name: .customLong("instance"), help: help("instance"))
    var instance: String?

    @Option(name: .customLong("metrics-listen"), help: help("metrics-listen"))
    var metricsListen: String?

    @Option(name: .customLong("spool-dir"), help: help("spool-dir"))
    var spoolDir: String?

    @Option(name: .customLong("spool-sync"), help: help("spool-sync"))
    var spoolSync: String?

    @Option(name: .customLong("spool-sync-interval"), help: help("spool-sync-interval"))
    var spoolSyncInterval: String?

    @Option(name: .customLong("spool-max-bytes"), help: help("spool-max-bytes"))
    var spoolMaxBytes: String?

    @Option(name: .customLong("spool-full"), help: help("spool-full"))
    var spoolFull: String?

    @Option(name: .customLong("commands"), help: help("commands"))
    var commands: String?

    @Option(name: .customLong("device-tz"), help: help("device-tz"))
    var deviceTZ: String?

    @Option(name: .customLong("speed-unit"), help: help("speed-unit"))
    var speedUnit: String?

    @Option(name: .customLong("max-frame-bytes"), help: help("max-frame-bytes"))
    var maxFrameBytes: String?

    @Option(name: .customLong("idle-timeout"), help: help("idle-timeout"))
    var idleTimeout: String?

    @Option(name: .customLong("status-interval"), help: help("status-interval"))
    var statusInterval: String?

    @Flag(name: .customLong("publish-raw"), inversion: .prefixedNo, help: help("publish-raw"))
    var publishRaw: Bool?

    @Option(name: .customLong("allowlist"), help: help("allowlist"))
    var allowlist: String?

    @Flag(name: .customLong("ha-discovery"), inversion: .prefixedNo, help: help("ha-discovery"))
    var haDiscovery: Bool?

    @Option(name: .customLong("ha-prefix"), help: help("ha-prefix"))
    var haPrefix: String?

    @Option(name: .customLong("owntracks-base"), help: help("owntracks-base"))
    var owntracksBase: String?

    @Option(name: .customLong("share-group"), help: help("share-group"))
    var shareGroup: String?

    @Option(name: .customLong("shutdown-timeout"), help: help("shutdown-timeout"))
    var shutdownTimeout: String?

    @Option(name: .customLong("mqtt-password-file"), help: help("mqtt-password-file"))
    var mqttPasswordFile: String?

    @Option(name: .customLong("device-password"), help: help("device-password"))
    var devicePassword: String?

    @Option(name: .customLong("command-ttl"), help: help("command-ttl"))
    var commandTTL: String?

    @Option(name: .customLong("command-ttl-max"), help: help("command-ttl-max"))
    var commandTTLMax: String?

    @Option(name: .customLong("udp-reply-window"), help: help("udp-reply-window"))
    var udpReplyWindow: String?

    @Option(name: .customLong("held-frames-max"), help: help("held-frames-max"))
    var heldFramesMax: String?

    @Option(name: .customLong("held-frames-age"), help: help("held-frames-age"))
    var heldFramesAge: String?

    @Option(name: .customLong("max-connections"), help: help("max-connections"))
    var maxConnections: String?

    @Option(name: .customLong("max-connections-per-ip"), help: help("max-connections-per-ip"))
    var maxConnectionsPerIP: String?

    @Option(name: .customLong("frame-rate-limit"), help: help("frame-rate-limit"))
    var frameRateLimit: String?

    @Option(name: .customLong("log-format"), help: help("log-format"))
    var logFormat: String?

    @Option(name: .customLong("log-level"), help: help("log-level"))
    var logLevel: String?

    /// Every option given on the command line, by flag name; options not given are absent.
    private var arguments: [String: [String]] {
        let all: [(String, [String]?)] = [
            ("listen", listen.isEmpty ? nil : listen),
            ("mqtt-url", mqttURL.map { [$0] }),
            ("h02-binary-length", h02BinaryLength.map { [$0] }),
            ("mqtt-ca-file", mqttCAFile.map { [$0] }),
            ("mqtt-cert-file", mqttCertFile.map { [$0] }),
            ("mqtt-key-file", mqttKeyFile.map { [$0] }),
            ("mqtt-session-expiry", mqttSessionExpiry.map { [$0] }),
            ("mqtt-max-inflight", mqttMaxInflight.map { [$0] }),
            ("topic-base", topicBase.map { [$0] }),
            ("instance", instance.map { [$0] }),
            ("metrics-listen", metricsListen.map { [$0] }),
            ("spool-dir", spoolDir.map { [$0] }),
            ("spool-sync", spoolSync.map { [$0] }),
            ("spool-sync-interval", spoolSyncInterval.map { [$0] }),
            ("spool-max-bytes", spoolMaxBytes.map { [$0] }),
            ("spool-full", spoolFull.map { [$0] }),
            ("commands", commands.map { [$0] }),
            ("device-tz", deviceTZ.map { [$0] }),
            ("speed-unit", speedUnit.map { [$0] }),
            ("max-frame-bytes", maxFrameBytes.map { [$0] }),
            ("idle-timeout", idleTimeout.map { [$0] }),
            ("status-interval", statusInterval.map { [$0] }),
            ("publish-raw", publishRaw.map { [String($0)] }),
            ("allowlist", allowlist.map { [$0] }),
            ("ha-discovery", haDiscovery.map { [String($0)] }),
            ("ha-prefix", haPrefix.map { [$0] }),
            ("owntracks-base", owntracksBase.map { [$0] }),
            ("share-group", shareGroup.map { [$0] }),
            ("shutdown-timeout", shutdownTimeout.map { [$0] }),
            ("mqtt-password-file", mqttPasswordFile.map { [$0] }),
            ("device-password", devicePassword.map { [$0] }),
            ("command-ttl", commandTTL.map { [$0] }),
            ("command-ttl-max", commandTTLMax.map { [$0] }),
            ("udp-reply-window", udpReplyWindow.map { [$0] }),
            ("held-frames-max", heldFramesMax.map { [$0] }),
            ("held-frames-age", heldFramesAge.map { [$0] }),
            ("max-connections", maxConnections.map { [$0] }),
            ("max-connections-per-ip", maxConnectionsPerIP.map { [$0] }),
            ("frame-rate-limit", frameRateLimit.map { [$0] }),
            ("log-format", logFormat.map { [$0] }),
            ("log-level", logLevel.map { [$0] }),
        ]
        assert(Set(all.map(\.0)) == Set(OptionDescriptor.all.map(\.name)), "ServeOptions must offer every option")
        return Dictionary(uniqueKeysWithValues: all.compactMap { name, values in values.map { (name, $0) } })
    }

    /// The options from flags, environment and config file; exit 2 when they are invalid.
    func resolved() throws -> BridgeOptions {
        let environment = ProcessInfo.processInfo.environment
        for variable in BridgeOptions.unknownEnvironmentVariables(in: environment) {
            FileHandleOutput.standardError("cctr-bridge: warning: \(variable) is not an option; ignored\n")
        }
        do {
            return try BridgeOptions.load(arguments: arguments, environment: environment, configFile: config)
        } catch {
            FileHandleOutput.standardError("cctr-bridge: \(error)\n")
            throw ExitCode(2)
        }
    }
}

/// The help line of an option, from the descriptor table.
private func help(_ name: String) -> ArgumentHelp {
    guard let option = OptionDescriptor.named(name) else { preconditionFailure("--\(name) is not in the table") }
    return ArgumentHelp(option.flagHelp, valueName: valueName(option))
}

private func valueName(_ option: OptionDescriptor) -> String {
    switch option.kind {
    case .integer: "n"
    case .choice(let words): words.joined(separator: "|")
    case .list: "addr"
    case .flag, .text, .optionalText: option.name.hasSuffix("file") || option.name.hasSuffix("dir") ? "path" : "value"
    }
}
