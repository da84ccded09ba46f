extension MosquittoClient {
    /// Everything `MosquittoClient` needs to reach and talk to one broker.
    ///
    /// Defaults fit a long-running publisher: persistent session (`cleanStart = false`) so QoS 1
    /// messages and subscriptions survive a reconnect, MQTT 5 with fallback to 3.1.1, and an
    /// in-flight window of 1000 (libmosquitto's 20 caps QoS 1 throughput).
    public struct Configuration: Sendable {
        /// Server certificate check and optional client certificate.
        public struct TLS: Sendable, Hashable {
            /// CA bundle (PEM); `nil` trusts the system store in `/etc/ssl/certs`.
            public var caFile: String?
            public var certFile: String?
            public var keyFile: String?

            public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil) {
                self.caFile = caFile
                self.certFile = certFile
                self.keyFile = keyFile
            }
        }

        /// The message the broker publishes for the client when it vanishes without DISCONNECT.
        public struct LastWill: Sendable, Hashable {
            public var topic: String
            public var payload: [UInt8]
            public var qos: Int
            public var retain: Bool

            public init(topic: String, payload: [UInt8], qos: Int = 1, retain: Bool = true) {
                self.topic = topic
                self.payload = payload
                self.qos = qos
                self.retain = retain
            }
        }

        /// Delay between connection attempts: doubles from `minimum` up to `maximum`, each
        /// delay randomised to between half and all of its value so that many clients
        /// restarted together do not reconnect in lockstep.
        public struct ReconnectBackoff: Sendable, Hashable {
            public var minimum: Duration
            public var maximum: Duration

            public init(minimum: Duration = .milliseconds(500), maximum: Duration = .seconds(30)) {
                self.minimum = minimum
                self.maximum = max(minimum, maximum)
            }

            /// The delay before attempt `attempt + 1`, given `unit` in 0..<1 as the random part.
            func delay(afterAttempt attempt: Int, unit: Double = .random(in: 0..<1)) -> Duration {
                min(minimum * (1 << min(attempt, 30)), maximum) * (0.5 + unit / 2)
            }
        }

        /// The nodes to connect to, never empty. The client starts with the first; when a
        /// connection is lost or an attempt fails it tries the next one, round robin, and waits
        /// `reconnectBackoff` only after a whole round failed. All share the credentials and
        /// TLS settings below (one cluster, one login).
        public var brokers: [BrokerAddress]
        /// Must not be empty: a persistent session is keyed by it.
        public var clientID: String
        public var username: String?
        /// Never logged and never part of `description`s.
        public var password: String?
        /// `nil` for plain TCP.
        public var tls: TLS?
        /// `.v5` tries MQTT 5 (and falls back to 3.1.1 when `fallsBackToV311`); `.v311`
        /// always uses 3.1.1.
        public var protocolVersion: MQTTProtocolVersion
        /// With `.v5`: speak 3.1.1 for the rest of `run()` when the broker refuses MQTT 5, or
        /// closes the connection before its CONNACK (RabbitMQ's MQTT plugin drops an MQTT 5
        /// CONNECT without a word). `--mqtt-protocol auto`; `5` turns it off.
        public var fallsBackToV311 = true
        /// `false` (default) asks the broker to keep the session between connections.
        public var cleanStart: Bool
        /// MQTT 5 Session Expiry Interval in seconds, sent on every CONNECT; without it a
        /// MQTT 5 broker drops the session at disconnect even with `cleanStart = false`.
        /// 3.1.1 has no expiry: a persistent session lasts until the broker discards it.
        public var sessionExpiry: UInt32
        public var keepAlive: Duration
        public var lastWill: LastWill?
        /// QoS 1/2 messages sent but not yet acknowledged (`MOSQ_OPT_SEND_MAXIMUM`); more are
        /// queued inside libmosquitto. An MQTT 5 broker may lower it with Receive Maximum.
        public var maxInflight: Int
        public var reconnectBackoff: ReconnectBackoff
        /// On shutdown, how long to keep the connection for unacknowledged QoS 1 messages
        /// before sending DISCONNECT; those still open then fail with `.shutdown`.
        public var shutdownDrainTimeout: Duration

        public init(
            host: String,
            port: Int = 1883,
            clientID: String,
            username: String? = nil,
            password: String? = nil,
            tls: TLS? = nil,
            protocolVersion: MQTTProtocolVersion = .v5,
            cleanStart: Bool = false,
            sessionExpiry: UInt32 = 300,
            keepAlive: Duration = .seconds(30),
            lastWill: LastWill? = nil,
            maxInflight: Int = 1000,
            reconnectBackoff: ReconnectBackoff = .init(),
            shutdownDrainTimeout: Duration = .seconds(5)
        ) {
            self.brokers = [BrokerAddress(host: host, port: port)]
            self.clientID = clientID
            self.username = username
            self.password = password
            self.tls = tls
            self.protocolVersion = protocolVersion
            self.cleanStart = cleanStart
            self.sessionExpiry = sessionExpiry
            self.keepAlive = keepAlive
            self.lastWill = lastWill
            self.maxInflight = maxInflight
            self.reconnectBackoff = reconnectBackoff
            self.shutdownDrainTimeout = shutdownDrainTimeout
        }

        /// Host, port, user name and TLS (on for `mqtts://`, trusting the system CAs) from a URL.
        public init(url: MQTTURL, clientID: String, password: String? = nil) {
            self.init(
                host: url.host, port: url.port, clientID: clientID,
                username: url.username, password: password,
                tls: url.usesTLS ? TLS() : nil
            )
        }

        /// The URL of `broker` as operators write it, without user name: for logs, the info
        /// payload and `/readyz`.
        public func url(of broker: BrokerAddress) -> MQTTURL {
            MQTTURL(usesTLS: tls != nil, host: broker.host, port: broker.port)
        }
    }
}

/// Printing or dumping a configuration never shows the password.
extension MosquittoClient.Configuration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        let urls = brokers.map { MQTTURL(usesTLS: tls != nil, username: username, host: $0.host, port: $0.port) }
        return "\(urls.map(\.description).joined(separator: ",")) client_id=\(clientID) protocol=\(protocolVersion) clean_start=\(cleanStart) "
            + "session_expiry=\(sessionExpiry)s password=\(password == nil ? "none" : "<redacted>")"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "brokers": brokers, "clientID": clientID, "username": username as Any,
            "password": password == nil ? "none" : "<redacted>", "tls": tls as Any,
            "protocolVersion": protocolVersion, "cleanStart": cleanStart, "sessionExpiry": sessionExpiry,
            "keepAlive": keepAlive, "lastWill": lastWill as Any, "maxInflight": maxInflight,
            "reconnectBackoff": reconnectBackoff, "shutdownDrainTimeout": shutdownDrainTimeout,
        ])
    }
}
