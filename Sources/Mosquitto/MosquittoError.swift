import CMosquitto

/// A failure of a `MosquittoClient` operation, with libmosquitto's or the broker's numeric code
/// and its text, so logs show both (`code` for matching, `message` for humans).
public struct MosquittoError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A libmosquitto call failed; `code` is its `MOSQ_ERR_*` value, text from `mosquitto_strerror`.
        case library
        /// The broker refused CONNECT; `code` is the CONNACK reason code.
        case connectionRefused
        /// The broker refused a PUBLISH or SUBSCRIBE (MQTT 5 reason code ≥ 0x80 in PUBACK /
        /// SUBACK, or 0x80 in a 3.1.1 SUBACK); `code` is that reason code.
        case rejected
        /// There is no connection to the broker right now; retry after the next `.connected`.
        case notConnected
        /// The client was shut down (or never started) before the operation completed.
        case shutdown
        /// An argument libmosquitto would reject (QoS outside 0...2, bad topic or filter).
        case invalidArgument
    }

    public let kind: Kind
    /// libmosquitto's `MOSQ_ERR_*` value or the MQTT reason code; 0 when neither applies.
    public let code: Int32
    public let message: String

    public init(kind: Kind, code: Int32, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String {
        code == 0 ? message : "\(message) (\(code))"
    }

    static func library(_ code: Int32) -> MosquittoError {
        MosquittoError(kind: .library, code: code, message: String(cString: mosquitto_strerror(code)))
    }

    /// A CONNACK refusal. MQTT 5 reason codes are ≥ 0x80; the 3.1.1 return codes 1-5 have
    /// their own texts.
    static func connectionRefused(_ code: Int32) -> MosquittoError {
        let text = code < 0x80 ? mosquitto_connack_string(code) : mosquitto_reason_string(code)
        return MosquittoError(kind: .connectionRefused, code: code, message: String(cString: text!))
    }

    static func rejected(_ code: Int32) -> MosquittoError {
        MosquittoError(kind: .rejected, code: code, message: String(cString: mosquitto_reason_string(code)))
    }

    static let notConnected = MosquittoError(kind: .notConnected, code: 0, message: "not connected to the MQTT broker")
    static let shutdown = MosquittoError(kind: .shutdown, code: 0, message: "MQTT client is shut down")

    static func invalidArgument(_ message: String) -> MosquittoError {
        MosquittoError(kind: .invalidArgument, code: 0, message: message)
    }
}
