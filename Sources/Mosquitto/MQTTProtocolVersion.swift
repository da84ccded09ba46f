/// The MQTT protocol revision spoken on a connection.
public enum MQTTProtocolVersion: Sendable, Hashable, CustomStringConvertible {
    /// MQTT 5: session expiry, response topic and correlation data.
    case v5
    /// MQTT 3.1.1: MQTT 5 properties are dropped, a persistent session is `clean_session=false`.
    case v311

    /// The value of libmosquitto's `MOSQ_OPT_PROTOCOL_VERSION` (`MQTT_PROTOCOL_V5` / `_V311`).
    var libraryValue: Int32 {
        switch self {
        case .v5: 5
        case .v311: 4
        }
    }

    public var description: String {
        switch self {
        case .v5: "5"
        case .v311: "3.1.1"
        }
    }
}
