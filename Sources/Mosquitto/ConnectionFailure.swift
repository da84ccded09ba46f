import CMosquitto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a connection attempt to one broker failed, in words an operator can act on. Each
/// kind of failure has its own wording so that the log and `/readyz` tell apart a port where
/// nothing listens, a TLS problem, wrong credentials and a login the broker does not allow.
enum ConnectionFailure {
    /// The facts of one attempt that was not accepted.
    struct Attempt {
        var broker: BrokerAddress
        /// libmosquitto's code from `connect` or from the loop that ended the attempt.
        var code: Int32
        /// `errno` right after that call, for `MOSQ_ERR_ERRNO`.
        var systemError: Int32
        /// Whether the TCP (and TLS) connection was made and CONNECT sent.
        var connected: Bool
        /// The CONNACK reason code refusing the attempt, if the broker answered.
        var refusal: Int32?
        var tls: TLSFailure
        /// The user name sent in CONNECT.
        var username: String?
    }

    static func explain(_ attempt: Attempt) -> MosquittoError {
        if let refusal = attempt.refusal {
            return refused(refusal, username: attempt.username)
        }
        let broker = attempt.broker
        switch attempt.code {
        case MOSQ_ERR_TLS.rawValue:
            return MosquittoError(
                kind: .library, code: attempt.code,
                message: "TLS handshake with \(broker) failed: \(attempt.tls.explanation(host: broker.host))")
        case MOSQ_ERR_ERRNO.rawValue where attempt.systemError == ECONNREFUSED:
            return MosquittoError(
                kind: .library, code: attempt.code,
                message: "connection refused by \(broker): nothing listens on that port (or a firewall rejects it)")
        case MOSQ_ERR_ERRNO.rawValue:
            let text = String(cString: strerror(attempt.systemError))
            return MosquittoError(kind: .library, code: attempt.code, message: "cannot reach \(broker): \(text)")
        case MOSQ_ERR_EAI.rawValue:
            return MosquittoError(kind: .library, code: attempt.code, message: "cannot resolve the broker host name '\(broker.host)'")
        default:
            let text = MosquittoError.library(attempt.code).message
            guard attempt.connected else {
                return MosquittoError(kind: .library, code: attempt.code, message: "cannot connect to \(broker): \(text)")
            }
            return MosquittoError(
                kind: .library, code: attempt.code,
                message: "\(broker) closed the connection before answering CONNECT (\(text))")
        }
    }

    /// A CONNACK refusal. Bad credentials (3.1.1 code 4, MQTT 5 0x86) and a login the broker
    /// does not allow (code 5, 0x87) are worded apart, naming the user the bridge sent. Which
    /// one a broker sends varies: Mosquitto 2.0 answers a wrong password and an anonymous
    /// login it does not allow with "not authorized", and sends "bad user name or password"
    /// when a listener takes the user from the client certificate and none was presented.
    static func refused(_ code: Int32, username: String?) -> MosquittoError {
        let base = MosquittoError.connectionRefused(code)
        let user = username.map { "user '\($0)'" } ?? "an anonymous client (no user name in the broker URL)"
        let message: String
        switch UInt32(bitPattern: code) {
        case CONNACK_REFUSED_BAD_USERNAME_PASSWORD.rawValue, MQTT_RC_BAD_USERNAME_OR_PASSWORD.rawValue:
            message = "bad credentials: the broker refused the user name or password of \(user) (\(base.message)); "
                + "check the user in the broker URL, the password (CCTR_MQTT_PASSWORD or --mqtt-password-file) "
                + "and, if the broker takes the user from a client certificate, --mqtt-cert-file"
        case CONNACK_REFUSED_NOT_AUTHORIZED.rawValue, MQTT_RC_NOT_AUTHORIZED.rawValue:
            message = "not authorized: the broker does not allow \(user) to connect (\(base.message)); "
                + (username == nil
                    ? "give a user name in the broker URL (mqtt://user@host) and its password"
                    : "check the password (Mosquitto answers a wrong one this way) and the broker's rules for this user")
        case MQTT_RC_BAD_AUTHENTICATION_METHOD.rawValue:
            message = "the broker refused the authentication method for \(user) (\(base.message))"
        default:
            message = "the broker refused the connection (\(base.message))"
        }
        return MosquittoError(kind: .connectionRefused, code: code, message: message)
    }
}
