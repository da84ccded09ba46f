import Crypto

/// The contract's stable message id: the first 8 bytes of SHA-256 over
/// `<device_id>|<raw>` (or `deadletter|<reason>|<raw>`), as 16 lowercase hex digits.
/// Nothing time- or connection-dependent enters it, so a frame re-sent after a reconnect or
/// replayed from the spool keeps its id and consumers can de-duplicate.
public enum PayloadID {
    public static func forFrame(deviceID: String, raw: some Collection<UInt8>) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(deviceID.utf8))
        hasher.update(data: [UInt8(ascii: "|")])
        hasher.update(data: Array(raw))
        return hex(hasher.finalize())
    }

    public static func forDeadLetter(reason: String, raw: some Collection<UInt8>) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("deadletter|\(reason)|".utf8))
        hasher.update(data: Array(raw))
        return hex(hasher.finalize())
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func hex(_ digest: SHA256.Digest) -> String {
        var out = [UInt8]()
        out.reserveCapacity(16)
        for byte in digest.prefix(8) {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
