import Crypto

/// The contract's stable message id: the first 8 bytes of SHA-256 over
/// `<device_id>|<raw>` (or `deadletter|<reason>|<raw>`), as 16 lowercase hex digits.
/// Nothing time- or connection-dependent enters it, so a frame re-sent after a reconnect or
/// replayed from the spool keeps its id and consumers can de-duplicate.
///
/// Computed for every published frame, so it hashes the caller's bytes in place and builds
/// the string directly: no intermediate arrays.
public enum PayloadID {
    public static func forFrame(deviceID: String, raw: some Collection<UInt8>) -> String {
        hex(frameDigest(deviceID: deviceID, raw: raw))
    }

    /// Writes the frame's id as a JSON string, without building a `String` first (an id is
    /// one byte too long for Swift's inline strings, so that was an allocation per message).
    static func write(deviceID: String, raw: some Collection<UInt8>, into writer: inout JSONWriter) {
        frameDigest(deviceID: deviceID, raw: raw).withUnsafeBytes { digest in
            writer.hexString(digest.prefix(8))
        }
    }

    private static func frameDigest(deviceID: String, raw: some Collection<UInt8>) -> SHA256.Digest {
        var hasher = SHA256()
        update(&hasher, with: deviceID)
        update(&hasher, with: "|")
        update(&hasher, with: raw)
        return hasher.finalize()
    }

    public static func forDeadLetter(reason: String, raw: some Collection<UInt8>) -> String {
        var hasher = SHA256()
        update(&hasher, with: "deadletter|")
        update(&hasher, with: reason)
        update(&hasher, with: "|")
        update(&hasher, with: raw)
        return hex(hasher.finalize())
    }

    private static func update(_ hasher: inout SHA256, with text: String) {
        var text = text
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }

    private static func update(_ hasher: inout SHA256, with bytes: some Collection<UInt8>) {
        let hashed: Void? = bytes.withContiguousStorageIfAvailable {
            hasher.update(bufferPointer: UnsafeRawBufferPointer($0))
        }
        if hashed == nil { hasher.update(data: Array(bytes)) }
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    private static func hex(_ digest: SHA256.Digest) -> String {
        digest.withUnsafeBytes { digestBytes in
            String(unsafeUninitializedCapacity: 16) { out in
                hexDigits.withUTF8Buffer { digits in
                    for index in 0..<8 {
                        let byte = digestBytes[index]
                        out[2 * index] = digits[Int(byte >> 4)]
                        out[2 * index + 1] = digits[Int(byte & 0x0F)]
                    }
                }
                return 16
            }
        }
    }
}
