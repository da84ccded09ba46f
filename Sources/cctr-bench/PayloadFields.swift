/// The three fields of a bridge payload the measurement needs, read by a byte scan rather than
/// a JSON parser so that the subscriber keeps up with the broker at full speed.
///
/// The bridge writes compact JSON with fixed key spelling (`JSONWriter`), and `device_id` and
/// `id` are plain hex/alphanumerics, so a scan for `"key":` is exact for its payloads.
struct PayloadFields: Equatable {
    /// The contract's message id (16 hex digits) as a number.
    var id: UInt64
    var deviceID: String
    /// `odometer_m`, which carries `cctr-sim`'s per-device sequence; `nil` when the frame had
    /// no status tail (no-fix positions).
    var sequence: UInt64?

    private static let idKey = Array(#""id":""#.utf8)
    private static let deviceKey = Array(#""device_id":""#.utf8)
    private static let odometerKey = Array(#""odometer_m":"#.utf8)

    init(id: UInt64, deviceID: String, sequence: UInt64?) {
        self.id = id
        self.deviceID = deviceID
        self.sequence = sequence
    }

    /// `nil` when the payload has no id or device id (not a position, history or alarm).
    init?(_ payload: [UInt8]) {
        guard let idStart = Self.end(of: Self.idKey, in: payload),
              let id = Self.hexValue(payload, from: idStart),
              let deviceStart = Self.end(of: Self.deviceKey, in: payload),
              let deviceEnd = payload[deviceStart...].firstIndex(of: UInt8(ascii: "\""))
        else { return nil }
        self.id = id
        deviceID = String(decoding: payload[deviceStart..<deviceEnd], as: UTF8.self)
        sequence = Self.end(of: Self.odometerKey, in: payload).flatMap { Self.decimalValue(payload, from: $0) }
    }

    /// The index just after the first occurrence of `key`.
    private static func end(of key: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= key.count else { return nil }
        var start = 0
        while start <= bytes.count - key.count {
            guard let first = bytes[start...].firstIndex(of: key[0]), first <= bytes.count - key.count else { return nil }
            var matched = true
            for offset in 1..<key.count where bytes[first + offset] != key[offset] {
                matched = false
                break
            }
            if matched { return first + key.count }
            start = first + 1
        }
        return nil
    }

    private static func hexValue(_ bytes: [UInt8], from start: Int) -> UInt64? {
        guard start + 16 <= bytes.count else { return nil }
        var value: UInt64 = 0
        for byte in bytes[start..<start + 16] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    /// A run of digits; `nil` for `null` or anything else.
    private static func decimalValue(_ bytes: [UInt8], from start: Int) -> UInt64? {
        var value: UInt64 = 0
        var index = start
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            value = value &* 10 &+ UInt64(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        return index > start ? value : nil
    }
}
