import BridgeCore
import Foundation

extension BridgeOptions {
    /// The resolved options as a JSON config file (`--print-config`): config keys, typed
    /// values, unset options as `null`, the `devices` section. Loading it with `--config`
    /// gives the same options back. The MQTT password is never part of it; only
    /// `mqtt.password.file`, the path it came from, is.
    public func configFileJSON() -> String {
        var values: [String: Any] = [:]
        func set(_ name: String, _ value: Any?) {
            guard let option = OptionDescriptor.named(name) else { preconditionFailure("--\(name) is not in the table") }
            values[option.configKey] = value ?? NSNull()
        }
        set("listen", listen.map(\.description))
        set("mqtt-url", mqttURL)
        set("mqtt-ca-file", mqttCAFile)
        set("mqtt-cert-file", mqttCertFile)
        set("mqtt-key-file", mqttKeyFile)
        set("mqtt-session-expiry", mqttSessionExpiry)
        set("mqtt-max-inflight", mqttMaxInflight)
        set("topic-base", topicBase)
        set("instance", instance)
        set("metrics-listen", metricsListen.hostAndPort)
        set("spool-dir", spoolDir)
        set("spool-sync", spoolSync.rawValue)
        set("spool-sync-interval", spoolSyncInterval)
        set("spool-max-bytes", spoolMaxBytes)
        set("spool-full", spoolFull.rawValue)
        set("commands", commands)
        set("device-tz", DeviceSettings.formatOffset(deviceTZ))
        set("speed-unit", speedUnit.rawValue)
        set("max-frame-bytes", maxFrameBytes)
        set("h02-binary-length", h02BinaryLength.description)
        set("idle-timeout", idleTimeout)
        set("status-interval", statusInterval)
        set("publish-raw", publishRaw)
        set("allowlist", allowlist)
        set("ha-discovery", haDiscovery)
        set("ha-prefix", haPrefix)
        set("owntracks-base", owntracksBase)
        set("share-group", shareGroup)
        set("shutdown-timeout", shutdownTimeout)
        set("mqtt-password-file", mqttPasswordFile)
        set("device-password", devicePassword)
        set("command-ttl", commandTTL)
        set("command-ttl-max", commandTTLMax)
        set("udp-reply-window", udpReplyWindow)
        set("held-frames-max", heldFramesMax)
        set("held-frames-age", heldFramesAge)
        set("max-connections", maxConnections)
        set("max-connections-per-ip", maxConnectionsPerIP)
        set("frame-rate-limit", frameRateLimit)
        set("log-format", logFormat.rawValue)
        set("log-level", logLevel.rawValue)
        assert(values.count == OptionDescriptor.all.count, "every option must be printed")
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
