import Mosquitto

extension BridgeOptions {
    /// The broker connection these options describe (URL, credentials, TLS, session expiry),
    /// shared by `serve` and `forget` so both reach the broker the same way.
    public func mqttConfiguration(clientID: String) throws -> MosquittoClient.Configuration {
        let url: MQTTURL
        do {
            url = try MQTTURL(mqttURL)
        } catch {
            throw StartupError("--mqtt-url: \(error.description)")
        }
        var mqtt = MosquittoClient.Configuration(url: url, clientID: clientID, password: mqttPassword?.value)
        if url.usesTLS || mqttCAFile != nil || mqttCertFile != nil {
            mqtt.tls = .init(caFile: mqttCAFile, certFile: mqttCertFile, keyFile: mqttKeyFile)
        }
        mqtt.sessionExpiry = UInt32(clamping: mqttSessionExpiry)
        mqtt.maxInflight = mqttMaxInflight
        return mqtt
    }
}
