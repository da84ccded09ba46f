import Mosquitto

extension BridgeOptions {
    /// The broker connection these options describe (URLs, credentials, TLS, session expiry),
    /// shared by `serve` and `forget` so both reach the broker the same way. The loader has
    /// checked that every URL has the first one's scheme and user.
    public func mqttConfiguration(clientID: String) -> MosquittoClient.Configuration {
        let url = self.mqttURL[0]
        var mqtt = MosquittoClient.Configuration(url: url, clientID: clientID, password: mqttPassword?.value)
        mqtt.brokers = self.mqttURL.map { BrokerAddress(host: $0.host, port: $0.port) }
        if url.usesTLS || self.mqttCAFile != nil || self.mqttCertFile != nil {
            mqtt.tls = .init(caFile: self.mqttCAFile, certFile: self.mqttCertFile, keyFile: self.mqttKeyFile)
        }
        mqtt.sessionExpiry = UInt32(clamping: self.mqttSessionExpiry.components.seconds)
        mqtt.maxInflight = self.mqttMaxInflight
        mqtt.protocolVersion = self.mqttProtocol == .v311 ? .v311 : .v5
        mqtt.fallsBackToV311 = self.mqttProtocol == .auto
        return mqtt
    }
}

/// `--mqtt-protocol`: which MQTT version the bridge speaks.
public enum MQTTProtocolSetting: String, Sendable, CaseIterable {
    /// MQTT 5, falling back to 3.1.1 when the broker refuses it or closes the connection
    /// before its CONNACK (RabbitMQ's MQTT plugin, older brokers).
    case auto
    /// MQTT 5 only: a broker that cannot speak it is a configuration error, retried.
    case v5 = "5"
    case v311 = "3.1.1"
}
