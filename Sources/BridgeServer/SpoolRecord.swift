import BridgeCore

/// How an `OutboundMessage` is stored in the spool: everything needed to publish it again
/// after a restart, plus the time it was accepted (for `cctr_publish_seconds`).
///
/// Layout: `version u8 (1) | qos u8 | retain u8 | acceptedAt i64 LE | topic length u16 LE |
/// topic UTF-8 | correlation length u16 LE (0xFFFF = none) | correlation data | payload`.
struct SpoolRecord: Sendable, Equatable {
    var topic: String
    var payload: [UInt8]
    var qos: UInt8
    var retain: Bool
    var acceptedAt: Int64
    var correlationData: [UInt8]?

    init(topic: String, payload: [UInt8], qos: UInt8, retain: Bool, acceptedAt: Int64, correlationData: [UInt8]? = nil) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.acceptedAt = acceptedAt
        self.correlationData = correlationData
    }

    init(_ message: OutboundMessage, acceptedAt: Int64) {
        self.init(
            topic: message.topic, payload: message.payload, qos: message.qos, retain: message.retain,
            acceptedAt: acceptedAt, correlationData: message.correlationData
        )
    }

    func encoded() -> [UInt8] {
        let topicBytes = Array(topic.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(13 + topicBytes.count + payload.count)
        bytes.append(1)
        bytes.append(qos)
        bytes.append(retain ? 1 : 0)
        withUnsafeBytes(of: acceptedAt.littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt16(topicBytes.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: topicBytes)
        if let correlationData {
            withUnsafeBytes(of: UInt16(correlationData.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: correlationData)
        } else {
            bytes.append(contentsOf: [0xFF, 0xFF])
        }
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// nil for a record this version cannot read (it is logged and skipped by the caller).
    init?(decoding bytes: [UInt8]) {
        guard bytes.count >= 13, bytes[0] == 1, bytes[1] <= 2, bytes[2] <= 1 else { return nil }
        var acceptedAt: Int64 = 0
        for i in 0..<8 { acceptedAt |= Int64(bytes[3 + i]) << (8 * i) }
        let topicLength = Int(bytes[11]) | Int(bytes[12]) << 8
        var offset = 13 + topicLength
        guard bytes.count >= offset + 2 else { return nil }
        topic = String(decoding: bytes[13..<offset], as: UTF8.self)
        let correlationLength = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
        offset += 2
        if correlationLength == 0xFFFF {
            correlationData = nil
        } else {
            guard bytes.count >= offset + correlationLength else { return nil }
            correlationData = Array(bytes[offset..<(offset + correlationLength)])
            offset += correlationLength
        }
        payload = Array(bytes[offset...])
        qos = bytes[1]
        retain = bytes[2] == 1
        self.acceptedAt = acceptedAt
    }
}
