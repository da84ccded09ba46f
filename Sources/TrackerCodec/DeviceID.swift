/// The rule every device id must pass before it names an MQTT topic level: 1-64 characters
/// of `[A-Za-z0-9_-]`, and not `bridge` (reserved for the bridge's own topics). It keeps a
/// device from injecting wildcards (`+`, `#`), extra levels (`/`) or NUL into topics.
public enum DeviceID {
    public static let maxLength = 64

    public static func isValid(_ id: String) -> Bool {
        isValid(utf8: id.utf8)
    }

    /// The decoders' case, without generic dispatch: ids are checked for every H02 frame.
    public static func isValid(utf8 bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
        var allowed = true
        bytes.withUnsafeBufferPointer { buffer in
            for byte in buffer where !isAllowed(byte) {
                allowed = false
                break
            }
        }
        return allowed && !(bytes.count == 6 && bytes.elementsEqual("bridge".utf8))
    }

    public static func isValid(utf8 bytes: some Collection<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
        for byte in bytes where !isAllowed(byte) {
            return false
        }
        return !bytes.elementsEqual("bridge".utf8)
    }

    @inline(__always)
    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
