@testable import Spool
import Testing

/// The spool's records carry zlib's CRC-32, so files can be checked with standard tools; the
/// sliced implementation must agree with the definition at every length and split.
@Suite struct CRC32Tests {
    /// The definition, one bit at a time.
    static func reference(_ bytes: [UInt8]) -> UInt32 {
        var value: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            value ^= UInt32(byte)
            for _ in 0..<8 {
                value = value & 1 != 0 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1
            }
        }
        return ~value
    }

    @Test func checkValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    @Test func everyLengthAndSplitMatchesTheDefinition() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for length in 0...bytes.count {
            let prefix = Array(bytes[..<length])
            let expected = Self.reference(prefix)
            #expect(CRC32.checksum(prefix) == expected)
            let split = length / 3
            let crc = prefix.withUnsafeBytes { buffer in
                CRC32.update(CRC32.update(0, UnsafeRawBufferPointer(rebasing: buffer[..<split])), UnsafeRawBufferPointer(rebasing: buffer[split...]))
            }
            #expect(crc == expected, "length \(length)")
        }
    }
}
