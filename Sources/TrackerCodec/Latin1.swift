extension String {
    /// Maps each byte to the code point of the same value (ISO-8859-1), so any bytes a device
    /// sends survive into a string and can be recovered from it.
    public init(latin1 bytes: some Collection<UInt8>) {
        if bytes.allSatisfy({ $0 < 0x80 }) {
            self.init(decoding: bytes, as: UTF8.self)
        } else {
            var scalars = String.UnicodeScalarView()
            for byte in bytes {
                scalars.append(Unicode.Scalar(byte))
            }
            self.init(scalars)
        }
    }
}

enum Ascii {
    static let star = UInt8(ascii: "*")
    static let caret = UInt8(ascii: "^")
    static let hash = UInt8(ascii: "#")
    static let dollar = UInt8(ascii: "$")
    static let comma = UInt8(ascii: ",")
    static let dot = UInt8(ascii: ".")
    static let minus = UInt8(ascii: "-")
    static let zero = UInt8(ascii: "0")

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- zero < 10 }

    @inline(__always)
    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) &- UInt8(ascii: "a") < 26 }
}
