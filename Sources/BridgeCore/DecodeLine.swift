/// The line format of `cctr-bridge decode`:
/// `{"topic":"…","payload":<JSON value>,"qos":1,"retain":<bool>}`.
public enum DecodeLine {
    /// The message kinds `decode` emits; status, availability and raw are `serve`-only.
    public static func isEmitted(_ kind: OutboundMessage.Kind) -> Bool {
        switch kind {
        case .position, .history, .alarm, .event, .deadLetter: true
        default: false
        }
    }

    public static func format(_ message: OutboundMessage) -> [UInt8] {
        var w = JSONWriter(capacity: message.payload.count + message.topic.utf8.count + 48)
        w.beginObject()
        w.key("topic")
        w.string(message.topic)
        w.key("payload")
        w.rawValue(message.payload)
        w.key("qos")
        w.integer(Int64(message.qos))
        w.key("retain")
        w.bool(message.retain)
        w.endObject()
        var line = w.bytes
        line.append(0x0A)
        return line
    }
}
