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
        let comma = !atStart
        atStart = true
        name.withUTF8Buffer { utf8 in
            render(capacity: utf8.count + 4) { out in
                if comma { out.put(UInt8(ascii: ",")) }
                out.put(UInt8(ascii: "\""))
                out.put(utf8)
                out.put(UInt8(ascii: "\""))
                out.put(UInt8(ascii: ":"))
            }
        }
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
        let written: Void? = raw.withContiguousStorageIfAvailable { appendQuoted($0, latin1: true) }
        if written == nil { Array(raw).withUnsafeBufferPointer { appendQuoted($0, latin1: true) } }
    }

    public mutating func null() {
        separate()
        appendLiteral("null")
    }

    public mutating func bool(_ value: Bool) {
        separate()
        appendLiteral(value ? "true" : "false")
    }

    public mutating func integer(_ value: Int64) {
        let comma = separator()
        render(capacity: 21 + 1) { out in
            if comma { out.put(UInt8(ascii: ",")) }
            out.putInteger(value)
        }
    }

    public mutating func integer(_ value: Int64?) {
        if let value { integer(value) } else { null() }
    }

    /// A number rounded to `decimals` places (0 to 7), written without exponent and with
    /// trailing zeros trimmed but at least one fractional digit (`0.0`, `158.35`,
    /// `-21.114665`). Not finite, or too large for that many decimals in 64 bits: `null`.
    public mutating func number(_ value: Double, decimals: Int) {
        let scale = Self.powersOf10[decimals]
        let scaledValue = (value * Double(scale)).rounded()
        // 2^63: the first Double an Int64 cannot hold (converting it would trap).
        guard scaledValue.isFinite, scaledValue.magnitude < 9_223_372_036_854_775_808.0 else {
            null()
            return
        }
        let comma = separator()
        let scaled = Int64(scaledValue)
        render(capacity: 1 + 1 + 19 + 1 + 7) { out in
            if comma { out.put(UInt8(ascii: ",")) }
            if scaled < 0 { out.put(UInt8(ascii: "-")) }
            let magnitude = scaled.magnitude
            out.putInteger(Int64(magnitude / UInt64(scale)))
            out.put(UInt8(ascii: "."))
            var fraction = magnitude % UInt64(scale)
            var digits = decimals
            while digits > 1, fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            var divisor = UInt64(Self.powersOf10[digits - 1])
            while divisor > 0 {
                out.put(UInt8(ascii: "0") + UInt8(fraction / divisor % 10))
                divisor /= 10
            }
        }
    }

    public mutating func number(_ value: Double?, decimals: Int) {
        if let value { number(value, decimals: decimals) } else { null() }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (the contract's `fix_time` and `device_time`).
    public mutating func timestamp(seconds: Int64) {
        timestamp(CivilDateTime(secondsSinceEpoch: seconds), millis: nil)
    }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ` (the contract's `received_at`, `at` and similar).
    public mutating func timestamp(milliseconds: Int64) {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        timestamp(CivilDateTime(secondsSinceEpoch: seconds), millis: Int(milliseconds - seconds * 1000))
    }

    private mutating func timestamp(_ civil: CivilDateTime, millis: Int?) {
        let comma = separator()
        render(capacity: Scratch.timestampCapacity) { out in
            if comma { out.put(UInt8(ascii: ",")) }
            out.put(UInt8(ascii: "\""))
            out.putDate(civil)
            if let millis {
                out.put(UInt8(ascii: "."))
                out.putDigits(millis, width: 3)
            }
            out.put(UInt8(ascii: "Z"))
            out.put(UInt8(ascii: "\""))
        }
    }

    public mutating func timestamp(milliseconds: Int64?) {
        if let milliseconds { timestamp(milliseconds: milliseconds) } else { null() }
    }

    /// The bytes as a string of lowercase hex digits, two per byte.
    public mutating func hexString(_ value: some Collection<UInt8>) {
        let comma = separator()
        render(capacity: 2 * value.count + 3) { out in
            if comma { out.put(UInt8(ascii: ",")) }
            out.put(UInt8(ascii: "\""))
            for byte in value {
                out.putHex(byte)
            }
            out.put(UInt8(ascii: "\""))
        }
    }

    /// Inserts an already serialized JSON value (e.g. a shared `source` object).
    public mutating func rawValue(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
    }

    // MARK: - Internals

    private static let powersOf10: [Int64] = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000]

    private mutating func separate() {
        if separator() { bytes.append(UInt8(ascii: ",")) }
    }

    /// Whether the next value needs a comma before it (and the next one after it will).
    private mutating func separator() -> Bool {
        defer { atStart = false }
        return !atStart
    }

    private mutating func appendLiteral(_ literal: StaticString) {
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Renders a piece of at most `capacity` bytes on the stack and appends it at once: every
    /// `Array.append` checks uniqueness and capacity, which byte by byte cost more than the
    /// formatting (the payloads are built per frame, so this is the hot path).
    @inline(__always)
    private mutating func render(capacity: Int, _ body: (inout Scratch) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            var scratch = Scratch(buffer: buffer)
            body(&scratch)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<scratch.count]))
        }
    }

    private mutating func writeString(_ value: String) {
        let written: Void? = value.utf8.withContiguousStorageIfAvailable { appendQuoted($0, latin1: false) }
        if written == nil {
            var copy = value
            copy.withUTF8 { appendQuoted($0, latin1: false) }
        }
    }

    /// `"` + the bytes escaped + `"`: copied in one piece when nothing needs escaping (ids,
    /// names and status words almost never do), byte by byte otherwise.
    private mutating func appendQuoted(_ utf8: UnsafeBufferPointer<UInt8>, latin1: Bool) {
        bytes.append(UInt8(ascii: "\""))
        if utf8.allSatisfy({ Self.isPlain($0, latin1: latin1) }) {
            bytes.append(contentsOf: utf8)
        } else {
            for byte in utf8 {
                appendEscaped(byte, latin1: latin1)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    private static func isPlain(_ byte: UInt8, latin1: Bool) -> Bool {
        byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != 0x7F && (!latin1 || byte < 0x80)
    }

    private mutating func appendEscaped(_ byte: UInt8, latin1: Bool) {
        render(capacity: 6) { out in
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.put(UInt8(ascii: "\\"))
                out.put(byte)
            case 0x0A:
                out.put(UInt8(ascii: "\\"))
                out.put(UInt8(ascii: "n"))
            case 0x0D:
                out.put(UInt8(ascii: "\\"))
                out.put(UInt8(ascii: "r"))
            case 0x09:
                out.put(UInt8(ascii: "\\"))
                out.put(UInt8(ascii: "t"))
            case 0..<0x20, 0x7F:
                out.put(UInt8(ascii: "\\"))
                out.put(UInt8(ascii: "u"))
                out.put(UInt8(ascii: "0"))
                out.put(UInt8(ascii: "0"))
                out.putHex(byte)
            case 0x80...0xFF where latin1:
                // U+0080-U+00FF in UTF-8: two bytes.
                out.put(0xC0 | (byte >> 6))
                out.put(0x80 | (byte & 0x3F))
            default:
                out.put(byte)
            }
        }
    }

    /// A stack buffer a piece is formatted into; `render` sizes it for the longest piece.
    private struct Scratch {
        private let buffer: UnsafeMutableBufferPointer<UInt8>
        private(set) var count = 0

        /// `,"` + a date whose year may run to 20 digits + `.sssZ"`.
        static let timestampCapacity = 2 + 20 + 15 + 5 + 1

        init(buffer: UnsafeMutableBufferPointer<UInt8>) {
            self.buffer = buffer
        }

        @inline(__always)
        mutating func put(_ byte: UInt8) {
            // A wrong capacity must stop here rather than write past the stack buffer.
            precondition(count < buffer.count, "JSONWriter scratch too small")
            buffer[count] = byte
            count += 1
        }

        mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let source = bytes.baseAddress else { return }
            precondition(bytes.count <= buffer.count - count, "JSONWriter scratch too small")
            (buffer.baseAddress! + count).update(from: source, count: bytes.count)
            count += bytes.count
        }

        private static let hexDigits: StaticString = "0123456789abcdef"

        mutating func putHex(_ byte: UInt8) {
            Self.hexDigits.withUTF8Buffer { digits in
                put(digits[Int(byte >> 4)])
                put(digits[Int(byte & 0x0F)])
            }
        }

        mutating func putDate(_ civil: CivilDateTime) {
            putDigits(civil.year, width: 4)
            put(UInt8(ascii: "-"))
            putDigits(civil.month, width: 2)
            put(UInt8(ascii: "-"))
            putDigits(civil.day, width: 2)
            put(UInt8(ascii: "T"))
            putDigits(civil.hour, width: 2)
            put(UInt8(ascii: ":"))
            putDigits(civil.minute, width: 2)
            put(UInt8(ascii: ":"))
            putDigits(civil.second, width: 2)
        }

        /// `value` zero-padded to `width` digits (negative values as 0).
        mutating func putDigits(_ value: Int, width: Int) {
            var divisor = Int(JSONWriter.powersOf10[width - 1])
            var remaining = max(0, value)
            if remaining / divisor >= 10 {
                // Years beyond 9999 cannot occur on the wire (yy only); keep the output valid anyway.
                putInteger(Int64(remaining))
                return
            }
            while divisor > 0 {
                put(UInt8(ascii: "0") + UInt8(remaining / divisor))
                remaining %= divisor
                divisor /= 10
            }
        }

        /// At most 20 bytes: a sign and 19 digits.
        mutating func putInteger(_ value: Int64) {
            if value < 0 { put(UInt8(ascii: "-")) }
            var magnitude = value.magnitude
            var divisor: UInt64 = 1
            while magnitude / divisor >= 10 {
                divisor *= 10
            }
            while divisor > 0 {
                put(UInt8(ascii: "0") + UInt8(magnitude / divisor))
                magnitude %= divisor
                divisor /= 10
            }
        }
    }
}
