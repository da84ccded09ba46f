import BridgeCore

/// The retained `<base>/bridge/<instance>/info` payload.
struct BridgeInfo: Sendable {
    var version: String
    var instance: String
    var startedAt: Int64
    var listeners: [String]
    var metrics: String
    var mqttProtocol: String
    /// The URL of the cluster node connected to, without user name (`mqtt://host:port`).
    var broker: String
    /// How commands reach this instance (`shared` or `broadcast`).
    var routing: RoutingMode

    func json() -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("v")
        w.integer(1)
        w.key("version")
        w.string(version)
        w.key("instance")
        w.string(instance)
        w.key("started_at")
        w.timestamp(milliseconds: startedAt)
        w.key("listeners")
        w.beginArray()
        for listener in listeners { w.string(listener) }
        w.endArray()
        w.key("metrics")
        w.string(metrics)
        w.key("mqtt_protocol")
        w.string(mqttProtocol)
        w.key("broker")
        w.string(broker)
        w.key("routing")
        w.string(routing.rawValue)
        w.endObject()
        return w.bytes
    }
}

/// The version reported in `info` and `--version`.
public enum BridgeVersion {
    public static let current = "0.1.0"
}
