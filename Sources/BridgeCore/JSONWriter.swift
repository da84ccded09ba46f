import TrackerCodec

/// A minimal JSON writer for the bridge's fixed payloads, appending UTF-8 straight into a
/// byte array: no dictionaries, no `Encodable` machinery, no `Double` descriptions on the hot
/// path. Commas are placed automatically; callers write keys in the contract's order.
/// Tests round-trip every payload kind through `JSONDecoder` and the JSON Schemas.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8]
    private var atStart = true

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        atStart = true
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        atStart = false
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        atStart = true
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        atStart = false
    }

    /// Writes `"name":`, preceded by a comma unless it is the first key of its object.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        atStart = true
    }

    /// Writes `"name":` for a key known only at run time (escaped like any string).
    public mutating func key(dynamic name: String) {
        separate()
        writeString(name)
        bytes.append(UInt8(ascii: ":"))
        atStart = true
    }

    public mutating func string(_ value: String) {
        separate()
        writeString(value)
    }

    public mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// A string of raw bytes mapped one to one onto code points U+0000-U+00FF (ISO-8859-1),
    /// so consumers can recover the exact bytes.
    public mutating func latin1String(_ raw: some Collection<UInt8>) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        for byte in raw {
            appendEscaped(byte, latin1: true)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: value ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
    }

    public mutating func integer(_ value: Int64) {
        separate()
        appendInteger(value)
    }

    public mutating func integer(_ value: Int64?) {
        if let value { integer(value) } else { null() }
    }

    /// A number rounded to `decimals` places, written without exponent and with trailing zeros
    /// trimmed but at least one fractional digit (`0.0`, `158.35`, `-21.114665`).
    public mutating func number(_ value: Double, decimals: Int) {
        separate()
        guard value.isFinite else {
            bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
            return
        }
        let scale = Self.powersOf10[decimals]
        let scaled = Int64((value * Double(scale)).rounded())
        if scaled < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = scaled.magnitude
        appendInteger(Int64(magnitude / UInt64(scale)))
        bytes.append(UInt8(ascii: "."))
        var fraction = magnitude % UInt64(scale)
        var digits = decimals
        while digits > 1, fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        var divisor = UInt64(Self.powersOf10[digits - 1])
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(fraction / divisor % 10))
            divisor /= 10
        }
    }

    public mutating func number(_ value: Double?, decimals: Int) {
        if let value { number(value, decimals: decimals) } else { null() }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (the contract's `fix_time` and `device_time`).
    public mutating func timestamp(seconds: Int64) {
        separate()
        let civil = CivilDateTime(secondsSinceEpoch: seconds)
        bytes.append(UInt8(ascii: "\""))
        appendDate(civil)
        bytes.append(contentsOf: [UInt8(ascii: "Z"), UInt8(ascii: "\"")])
    }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ` (the contract's `received_at`, `at` and similar).
    public mutating func timestamp(milliseconds: Int64) {
        separate()
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let millis = Int(milliseconds - seconds * 1000)
        bytes.append(UInt8(ascii: "\""))
        appendDate(CivilDateTime(secondsSinceEpoch: seconds))
        bytes.append(UInt8(ascii: "."))
        appendDigits(millis, width: 3)
        bytes.append(contentsOf: [UInt8(ascii: "Z"), UInt8(ascii: "\"")])
    }

    public mutating func timestamp(milliseconds: Int64?) {
        if let milliseconds { timestamp(milliseconds: milliseconds) } else { null() }
    }

    /// The bytes as a string of lowercase hex digits, two per byte.
    public mutating func hexString(_ value: some Collection<UInt8>) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        for byte in value {
            bytes.append(Self.hexDigits[Int(byte >> 4)])
            bytes.append(Self.hexDigits[Int(byte & 0x0F)])
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Inserts an already serialized JSON value (e.g. a shared `source` object).
    public mutating func rawValue(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
    }

    // MARK: - Internals

    private static let powersOf10: [Int64] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000]
    private static let hexDigits = Array("0123456789abcdef".utf8)

    private mutating func separate() {
        if atStart {
            atStart = false
        } else {
            bytes.append(UInt8(ascii: ","))
        }
    }

    private mutating func writeString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            appendEscaped(byte, latin1: false)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    private mutating func appendEscaped(_ byte: UInt8, latin1: Bool) {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(byte)
        case 0x0A:
            bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D:
            bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09:
            bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0..<0x20, 0x7F:
            bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            bytes.append(Self.hexDigits[Int(byte >> 4)])
            bytes.append(Self.hexDigits[Int(byte & 0x0F)])
        case 0x80...0xFF where latin1:
            // U+0080-U+00FF in UTF-8: two bytes.
            bytes.append(0xC0 | (byte >> 6))
            bytes.append(0x80 | (byte & 0x3F))
        default:
            bytes.append(byte)
        }
    }

    private mutating func appendDate(_ civil: CivilDateTime) {
        appendDigits(civil.year, width: 4)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(civil.month, width: 2)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(civil.day, width: 2)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(civil.hour, width: 2)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(civil.minute, width: 2)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(civil.second, width: 2)
    }

    private mutating func appendDigits(_ value: Int, width: Int) {
        var divisor = Int(Self.powersOf10[width - 1])
        var remaining = max(0, value)
        if remaining / divisor >= 10 {
            // Years beyond 9999 cannot occur on the wire (yy only); keep the output valid anyway.
            appendInteger(Int64(remaining))
            return
        }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(remaining / divisor))
            remaining %= divisor
            divisor /= 10
        }
    }

    private mutating func appendInteger(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for i in stride(from: count - 1, through: 0, by: -1) {
                bytes.append(buffer[i])
            }
        }
    }
}
