/// What a `MosquittoClient` reports on its `events` stream.
///
/// `.connected` and `.disconnected` alternate: a `.disconnected` always follows a
/// `.connected`, so failed connection attempts (broker unreachable, CONNACK refused) do not
/// appear here; they are logged and retried.
public enum MosquittoEvent: Sendable {
    /// The broker accepted the connection (CONNACK success). `sessionPresent` tells whether it
    /// kept the previous session (subscriptions and queued messages).
    /// `sharedSubscriptionAvailable` is false only when an MQTT 5 CONNACK says so (property
    /// 0x2A = 0); brokers that lack `$share` without saying so are found by subscribing.
    case connected(protocolVersion: MQTTProtocolVersion, sessionPresent: Bool, sharedSubscriptionAvailable: Bool)
    /// The connection ended; `reason` is `nil` after the client's own clean DISCONNECT.
    case disconnected(reason: MosquittoError?)
    case message(IncomingMessage)
}
