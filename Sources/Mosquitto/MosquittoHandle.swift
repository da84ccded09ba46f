import CMosquitto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The only owner of libmosquitto's `struct mosquitto *` and the only code (with
/// `MosquittoError`'s texts) that calls the C API.
///
/// `@unchecked Sendable` because the pointer is shared between the loop thread and callers:
/// libmosquitto built with threads (Debian's is) guards its state with its own mutexes, and with
/// `mosquitto_threaded_set(true)` `publish`, `subscribe`, `unsubscribe` and `disconnect` from any
/// thread only queue packets and wake the loop, which alone writes to the socket. `connect`,
/// `setProtocolVersion` and `loop` are called only from `MosquittoClient`'s single loop thread.
///
/// The callbacks get the `MosquittoClientCore` through libmosquitto's userdata pointer, retained
/// here and released only after `mosquitto_destroy`, when no callback can run any more.
final class MosquittoHandle: @unchecked Sendable {
    /// `mosquitto_lib_init` must run once per process before the first `mosquitto_new`.
    private static let libraryInitResult = mosquitto_lib_init()

    private let mosq: OpaquePointer
    private let core: Unmanaged<MosquittoClientCore>

    init(configuration: MosquittoClient.Configuration, core: MosquittoClientCore) throws(MosquittoError) {
        guard Self.libraryInitResult == MOSQ_ERR_SUCCESS.rawValue else {
            throw .library(Self.libraryInitResult)
        }
        guard !configuration.clientID.isEmpty else {
            throw .invalidArgument("MQTT client id must not be empty")
        }
        let retained = Unmanaged.passRetained(core)
        guard let mosq = mosquitto_new(configuration.clientID, configuration.cleanStart, retained.toOpaque()) else {
            retained.release()
            throw .library(MOSQ_ERR_NOMEM.rawValue)
        }
        do {
            try Self.configure(mosq, configuration)
        } catch {
            mosquitto_destroy(mosq)
            retained.release()
            throw error
        }
        self.mosq = mosq
        self.core = retained
    }

    deinit {
        mosquitto_destroy(mosq)
        core.release()
    }

    // MARK: Loop thread only

    func setProtocolVersion(_ version: MQTTProtocolVersion) {
        mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, version.libraryValue)
    }

    /// libmosquitto's result code and, for `MOSQ_ERR_ERRNO`, the `errno` read right after the
    /// call (later code may overwrite it).
    typealias Result = (code: Int32, systemError: Int32)

    /// Opens the TCP (and TLS) connection and queues CONNECT; CONNACK arrives in `loop`.
    /// Blocks for name resolution and the TCP handshake. Until the CONNACK accepts, errors
    /// libmosquitto logs (TLS reasons) reach the core.
    func connect(to broker: BrokerAddress, keepAlive: Duration, sessionExpiry: UInt32?) -> Result {
        var properties: OpaquePointer?
        defer { mosquitto_property_free_all(&properties) }
        if let sessionExpiry {
            let rc = mosquitto_property_add_int32(
                &properties, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), sessionExpiry)
            guard rc == MOSQ_ERR_SUCCESS.rawValue else { return (rc, 0) }
        }
        Self.watchErrors(mosq, true)
        let keepAliveSeconds = Int32(clamping: max(5, keepAlive.components.seconds))
        let rc = mosquitto_connect_bind_v5(mosq, broker.host, Int32(broker.port), keepAliveSeconds, nil, properties)
        return (rc, errno)
    }

    /// One round of socket I/O and keep-alive; a non-zero code when the connection is gone.
    func loop(timeoutMilliseconds: Int32) -> Result {
        let rc = mosquitto_loop(mosq, timeoutMilliseconds, 1)
        return (rc, errno)
    }

    /// Closes the connection without the broker's cooperation: shuts down the socket's read
    /// side, so that libmosquitto's next loop reads end-of-file and closes it as a lost
    /// connection (its callbacks run as for any drop). Only the read side: a write to a shut
    /// socket would raise SIGPIPE, which this process does not ignore. Returns the loop's
    /// error code.
    func abortConnection() -> Int32 {
        let socket = mosquitto_socket(mosq)
        if socket >= 0 {
            _ = shutdown(socket, Int32(SHUT_RD))
        }
        let rc = mosquitto_loop(mosq, 0, 1)
        return rc != MOSQ_ERR_SUCCESS.rawValue ? rc : MOSQ_ERR_CONN_LOST.rawValue
    }

    // MARK: Any thread

    @discardableResult
    func disconnect() -> Int32 {
        mosquitto_disconnect(mosq)
    }

    /// Hands a message to libmosquitto; returns its code and the message id that its
    /// PUBACK/PUBCOMP callback will carry.
    func publish(
        topic: String, payload: [UInt8], qos: Int, retain: Bool,
        properties: PublishProperties, version: MQTTProtocolVersion
    ) -> (code: Int32, messageID: Int32) {
        var list: OpaquePointer?
        defer { mosquitto_property_free_all(&list) }
        if version == .v5 {
            if let responseTopic = properties.responseTopic {
                let rc = mosquitto_property_add_string(&list, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), responseTopic)
                guard rc == MOSQ_ERR_SUCCESS.rawValue else { return (rc, 0) }
            }
            if let correlationData = properties.correlationData {
                guard correlationData.count <= Int(UInt16.max) else { return (MOSQ_ERR_INVAL.rawValue, 0) }
                let rc = correlationData.withUnsafeBytes { bytes in
                    mosquitto_property_add_binary(
                        &list, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), bytes.baseAddress, UInt16(bytes.count))
                }
                guard rc == MOSQ_ERR_SUCCESS.rawValue else { return (rc, 0) }
            }
        }
        var messageID: Int32 = 0
        let rc = payload.withUnsafeBytes { bytes in
            mosquitto_publish_v5(
                mosq, &messageID, topic, Int32(bytes.count), bytes.baseAddress, Int32(qos), retain, list)
        }
        return (rc, messageID)
    }

    func subscribe(filter: String, qos: Int, version: MQTTProtocolVersion) -> (code: Int32, messageID: Int32) {
        var messageID: Int32 = 0
        let rc = Self.subscribe(mosq, &messageID, filter: filter, qos: qos, version: version)
        return (rc, messageID)
    }

    /// Under MQTT 5 every subscription asks for Retain As Published, so a subscriber can tell a
    /// retained publication from a live one even while subscribed (the bridge refuses retained
    /// commands). MQTT 3.1.1 has no such option: live messages always arrive with retain 0.
    private static func subscribe(
        _ mosq: OpaquePointer, _ messageID: UnsafeMutablePointer<Int32>?, filter: String, qos: Int, version: MQTTProtocolVersion
    ) -> Int32 {
        switch version {
        case .v5:
            let options = Int32(MQTT_SUB_OPT_RETAIN_AS_PUBLISHED.rawValue)
            return mosquitto_subscribe_v5(mosq, messageID, filter, Int32(qos), options, nil)
        case .v311:
            return mosquitto_subscribe(mosq, messageID, filter, Int32(qos))
        }
    }

    func unsubscribe(filter: String) -> (code: Int32, messageID: Int32) {
        var messageID: Int32 = 0
        let rc = mosquitto_unsubscribe(mosq, &messageID, filter)
        return (rc, messageID)
    }

    /// `MOSQ_ERR_NO_CONN`: the socket is closed.
    static let noConnection = MOSQ_ERR_NO_CONN.rawValue

    /// `MOSQ_ERR_TLS`: the TLS handshake or a TLS read/write failed.
    static let tlsError = MOSQ_ERR_TLS.rawValue

    /// A CONNACK code meaning "this broker does not speak the requested MQTT version": the MQTT 5
    /// reason code, or the 3.1.1 return code a v3-only broker sends.
    static func isProtocolVersionRefusal(_ reasonCode: Int32) -> Bool {
        reasonCode == Int32(MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION.rawValue)
            || reasonCode == Int32(CONNACK_REFUSED_PROTOCOL_VERSION.rawValue)
    }

    static func isValidFilter(_ filter: String) -> Bool {
        mosquitto_sub_topic_check(filter) == MOSQ_ERR_SUCCESS.rawValue
    }

    static func isValidTopic(_ topic: String) -> Bool {
        mosquitto_pub_topic_check(topic) == MOSQ_ERR_SUCCESS.rawValue
    }

    // MARK: Setup

    private static func check(_ rc: Int32) throws(MosquittoError) {
        guard rc == MOSQ_ERR_SUCCESS.rawValue else { throw .library(rc) }
    }

    private static func configure(_ mosq: OpaquePointer, _ configuration: MosquittoClient.Configuration) throws(MosquittoError) {
        try check(mosquitto_threaded_set(mosq, true))
        let window = Int32(clamping: min(max(configuration.maxInflight, 1), Int(UInt16.max)))
        try check(mosquitto_int_option(mosq, MOSQ_OPT_SEND_MAXIMUM, window))
        // Nagle's algorithm holds a small PUBLISH until the broker acknowledges the previous
        // segment, and the broker's kernel delays that acknowledgement up to 40 ms when it
        // has nothing to send: a burst of publishes then waits for PUBACKs in steps of 40 ms.
        try check(mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1))
        if let username = configuration.username {
            try check(mosquitto_username_pw_set(mosq, username, configuration.password))
        }
        if let will = configuration.lastWill {
            guard (0...2).contains(will.qos) else { throw .invalidArgument("last will QoS must be 0, 1 or 2") }
            try check(will.payload.withUnsafeBytes { bytes in
                mosquitto_will_set(mosq, will.topic, Int32(bytes.count), bytes.baseAddress, Int32(will.qos), will.retain)
            })
        }
        if let tls = configuration.tls {
            let caPath = tls.caFile == nil ? "/etc/ssl/certs" : nil
            try check(mosquitto_tls_set(mosq, tls.caFile, caPath, tls.certFile, tls.keyFile, nil))
        }
        installCallbacks(mosq)
    }

    /// The callbacks are non-capturing literals (C function pointers) written in nonisolated
    /// code: a closure formed in `@MainActor` code traps when libmosquitto's thread calls it.
    private static func installCallbacks(_ mosq: OpaquePointer) {
        mosquitto_connect_v5_callback_set(mosq) { mosq, userdata, reasonCode, flags, properties in
            guard let mosq, let core = MosquittoHandle.core(userdata) else { return }
            // Absent means available (MQTT 5 §3.2.2.3.13); a 3.1.1 CONNACK has no properties.
            var shared: UInt8 = 1
            _ = mosquitto_property_read_byte(properties, Int32(MQTT_PROP_SHARED_SUB_AVAILABLE.rawValue), &shared, false)
            let (version, subscriptions) = core.didConnect(
                reasonCode: reasonCode, sessionPresent: flags & 1 != 0, sharedSubscriptionAvailable: shared != 0)
            if version != nil { MosquittoHandle.watchErrors(mosq, false) }
            for subscription in subscriptions {
                let rc = MosquittoHandle.subscribe(mosq, nil, filter: subscription.filter, qos: subscription.qos, version: version ?? .v311)
                if rc != MOSQ_ERR_SUCCESS.rawValue {
                    core.resubscribeFailed(filter: subscription.filter, error: .library(rc))
                }
            }
        }
        mosquitto_disconnect_v5_callback_set(mosq) { _, userdata, code, _ in
            MosquittoHandle.core(userdata)?.didDisconnect(code: code)
        }
        mosquitto_publish_v5_callback_set(mosq) { _, userdata, messageID, reasonCode, _ in
            MosquittoHandle.core(userdata)?.didPublish(messageID: messageID, reasonCode: reasonCode)
        }
        mosquitto_subscribe_v5_callback_set(mosq) { _, userdata, messageID, count, granted, _ in
            let grantedQoS = count > 0 ? granted?.pointee : nil
            MosquittoHandle.core(userdata)?.didSubscribe(messageID: messageID, grantedQoS: grantedQoS)
        }
        mosquitto_unsubscribe_v5_callback_set(mosq) { _, userdata, messageID, _ in
            MosquittoHandle.core(userdata)?.didUnsubscribe(messageID: messageID)
        }
        mosquitto_message_v5_callback_set(mosq) { _, userdata, message, properties in
            guard let core = MosquittoHandle.core(userdata), let message else { return }
            core.didReceive(MosquittoHandle.copy(message.pointee, properties: properties))
        }
    }

    /// Turns libmosquitto's log callback on or off. It is on only while connecting: with a
    /// callback set, libmosquitto formats every debug line (two per QoS 1 message) into a fresh
    /// buffer. Error lines go to the core, with OpenSSL's verify result, which must be read
    /// during the callback: the TLS session is freed when the failed connection closes.
    private static func watchErrors(_ mosq: OpaquePointer, _ on: Bool) {
        guard on else { return mosquitto_log_callback_set(mosq, nil) }
        mosquitto_log_callback_set(mosq) { mosq, userdata, level, text in
            guard level & MOSQ_LOG_ERR != 0, let mosq, let text, let core = MosquittoHandle.core(userdata) else { return }
            core.noteLibraryError(String(cString: text), verifyReason: MosquittoHandle.verifyFailure(mosq))
        }
    }

    /// OpenSSL's reason for rejecting the broker's certificate on the current TLS session,
    /// e.g. "certificate has expired"; `nil` without TLS, when verification passed, or when
    /// OpenSSL says only "unspecified" (libmosquitto's own host name check failed).
    private static func verifyFailure(_ mosq: OpaquePointer) -> String? {
        guard let ssl = mosquitto_ssl_get(mosq) else { return nil }
        let result = SSL_get_verify_result(OpaquePointer(ssl))
        guard result != X509_V_OK, result != X509_V_ERR_UNSPECIFIED else { return nil }
        return String(cString: X509_verify_cert_error_string(result))
    }

    private static func core(_ userdata: UnsafeMutableRawPointer?) -> MosquittoClientCore? {
        userdata.map { Unmanaged<MosquittoClientCore>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Copies a message out of libmosquitto's buffers, which are freed when the callback returns.
    private static func copy(_ message: mosquitto_message, properties: OpaquePointer?) -> IncomingMessage {
        let payload: [UInt8] =
            if let bytes = message.payload, message.payloadlen > 0 {
                Array(UnsafeRawBufferPointer(start: bytes, count: Int(message.payloadlen)))
            } else {
                []
            }
        var responseTopic: String?
        var correlationData: [UInt8]?
        if let properties {
            var text: UnsafeMutablePointer<CChar>?
            if mosquitto_property_read_string(properties, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), &text, false) != nil,
               let text {
                responseTopic = String(cString: text)
                free(text)
            }
            var data: UnsafeMutableRawPointer?
            var length: UInt16 = 0
            if mosquitto_property_read_binary(
                properties, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), &data, &length, false) != nil {
                correlationData = data.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(length))) } ?? []
                free(data)
            }
        }
        return IncomingMessage(
            topic: String(cString: message.topic),
            payload: payload,
            qos: Int(message.qos),
            retain: message.retain,
            responseTopic: responseTopic,
            correlationData: correlationData
        )
    }
}
