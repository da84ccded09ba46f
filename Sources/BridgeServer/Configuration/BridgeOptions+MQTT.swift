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
        return mqtt
    }
}
