/// The on-disk framing of one record (all integers little endian):
///
///     magic u32 "SPOL" | length u32 | sequence u64 | crc32 u32 | record bytes
///
/// The CRC covers the record bytes, then the length and sequence fields, so a flipped bit
/// anywhere but in the magic is caught. The magic lets a reader find the next record after
/// a damaged one.
enum RecordFrame {
    static let magic: UInt32 = 0x4C4F_5053
    static let headerSize = 20
    /// Larger lengths are treated as damage, so garbage cannot make the reader allocate
    /// gigabytes.
    static let maxRecordBytes = 64 << 20

    /// The frame checksum, given the CRC of the record bytes alone (computed before taking
    /// the spool's lock).
    static func checksum(recordCRC: UInt32, length: UInt32, sequence: UInt64) -> UInt32 {
        let crc = withUnsafeBytes(of: length.littleEndian) { CRC32.update(recordCRC, $0) }
        return withUnsafeBytes(of: sequence.littleEndian) { CRC32.update(crc, $0) }
    }

    static func append(_ record: [UInt8], recordCRC: UInt32, sequence: UInt64, to buffer: inout [UInt8]) {
        let length = UInt32(record.count)
        let crc = checksum(recordCRC: recordCRC, length: length, sequence: sequence)
        withUnsafeBytes(of: magic.littleEndian) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: length.littleEndian) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: sequence.littleEndian) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: crc.littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: record)
    }

    /// What the bytes at one offset hold.
    enum Step: Equatable {
        /// A valid record; the next frame starts at `next`.
        case record(sequence: UInt64, bytes: Range<Int>, next: Int)
        /// Damage: skip to `resumeAt`, the next possible frame start.
        case corrupt(resumeAt: Int)
        /// The frame continues past the buffer, which is not the end of the file: read at
        /// least `bytes` bytes from the same offset.
        case needMore(bytes: Int)
        /// The offset is the end of the buffer.
        case end
    }

    /// Reads the frame at `offset`. `isFinal` says the buffer ends where the file's data
    /// ends, so a frame running past it is a torn tail rather than a short read.
    static func step(_ buffer: UnsafeRawBufferPointer, at offset: Int, isFinal: Bool) -> Step {
        let available = buffer.count - offset
        if available <= 0 {
            return .end
        }
        if available < headerSize {
            return isFinal ? .corrupt(resumeAt: buffer.count) : .needMore(bytes: headerSize)
        }
        func load<T: FixedWidthInteger>(_ position: Int, as type: T.Type) -> T {
            T(littleEndian: buffer.loadUnaligned(fromByteOffset: offset + position, as: T.self))
        }
        let resync = Step.corrupt(resumeAt: nextMagic(in: buffer, from: offset + 1, isFinal: isFinal))
        guard load(0, as: UInt32.self) == magic else { return resync }
        let length = Int(load(4, as: UInt32.self))
        guard length <= maxRecordBytes else { return resync }
        let total = headerSize + length
        if available < total {
            return isFinal ? resync : .needMore(bytes: total)
        }
        let sequence = load(8, as: UInt64.self)
        let stored = load(16, as: UInt32.self)
        let bytes = (offset + headerSize)..<(offset + total)
        let recordCRC = CRC32.update(0, UnsafeRawBufferPointer(rebasing: buffer[bytes]))
        guard checksum(recordCRC: recordCRC, length: UInt32(length), sequence: sequence) == stored else {
            return resync
        }
        return .record(sequence: sequence, bytes: bytes, next: offset + total)
    }

    /// The next offset that may start a frame. Without a match in a non-final buffer, the
    /// last three bytes might begin a magic split by the read, so resume there.
    private static func nextMagic(in buffer: UnsafeRawBufferPointer, from start: Int, isFinal: Bool) -> Int {
        var position = start
        while position + 4 <= buffer.count {
            if UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: UInt32.self)) == magic {
                return position
            }
            position += 1
        }
        return isFinal ? buffer.count : max(start, buffer.count - 3)
    }
}
