import Mosquitto

extension BridgeOptions {
    /// The broker connection these options describe (URL, credentials, TLS, session expiry),
    /// shared by `serve` and `forget` so both reach the broker the same way.
    public func mqttConfiguration(clientID: String) throws -> MosquittoClient.Configuration {
        let url: MQTTURL
        do {
            url = try MQTTURL(self.mqttURL)
        } catch {
            throw StartupError("--mqtt-url: \(error.description)")
        }
        var mqtt = MosquittoClient.Configuration(url: url, clientID: clientID, password: mqttPassword?.value)
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
