import Foundation
import Logging

/// The files of a spool directory: `lock`, `ack` and `<first sequence, 20 digits>.seg`
/// segments. Recovery at open and the acknowledgement watermark live here; everything else
/// in the directory is ignored.
struct SpoolDirectory: Sendable {
    let path: String

    var lockPath: String { path + "/lock" }
    var acknowledgementPath: String { path + "/ack" }

    func segmentPath(_ firstSequence: UInt64) -> String {
        let digits = String(firstSequence)
        return path + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".seg"
    }

    /// Sequences, watermarks and segment names above this are foreign or damaged: a spool
    /// appending 10^6 records a second needs 146,000 years to reach it, and staying far below
    /// `UInt64.max` keeps sequence arithmetic from overflowing on crafted files.
    static let maxSequence: UInt64 = 1 << 62

    static func segmentSequence(fromName name: String) -> UInt64? {
        guard name.hasSuffix(".seg") else { return nil }
        let digits = name.dropLast(4)
        guard digits.count == 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let sequence = UInt64(digits), sequence < maxSequence
        else { return nil }
        return sequence
    }

    // MARK: Acknowledgement watermark

    /// The `ack` file holds two 16-byte slots, `watermark u64 | generation u32 | crc32 u32`,
    /// written alternately, so a write torn by power loss spoils at most the newer slot and
    /// the older one still reads. Every sequence below the watermark was acknowledged.
    static let acknowledgementSlotSize = 16

    static func encodeAcknowledgement(watermark: UInt64, generation: UInt32) -> [UInt8] {
        var slot: [UInt8] = []
        withUnsafeBytes(of: watermark.littleEndian) { slot.append(contentsOf: $0) }
        withUnsafeBytes(of: generation.littleEndian) { slot.append(contentsOf: $0) }
        let crc = CRC32.checksum(slot)
        withUnsafeBytes(of: crc.littleEndian) { slot.append(contentsOf: $0) }
        return slot
    }

    /// The newest valid slot, or `nil` when neither slot is valid (a missing or damaged
    /// file): then every record on disk is replayed, which only repeats acknowledged ones.
    static func decodeAcknowledgement(_ bytes: [UInt8]) -> (watermark: UInt64, generation: UInt32)? {
        var best: (watermark: UInt64, generation: UInt32)?
        for start in stride(from: 0, to: min(bytes.count, 2 * acknowledgementSlotSize), by: acknowledgementSlotSize) {
            guard start + acknowledgementSlotSize <= bytes.count else { break }
            let slot = Array(bytes[start..<(start + acknowledgementSlotSize)])
            let (watermark, generation, crc) = slot.withUnsafeBytes { raw in
                (
                    UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                    UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)),
                    UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
                )
            }
            guard CRC32.checksum(Array(slot[0..<12])) == crc else { continue }
            if best == nil || generation > best!.generation {
                best = (watermark, generation)
            }
        }
        return best
    }

    // MARK: Recovery

    /// What opening the directory found.
    struct Recovery {
        var segments: [Segment] = []
        var nextSequence: UInt64 = 0
        var watermark: UInt64 = 0
        var acknowledgementGeneration: UInt32 = 0
        var replayedRecords = 0
        var corruptRecords = 0
    }

    /// Scans every segment: counts the records still to publish, skips damage (counted and
    /// logged), and deletes segments with nothing left to publish. Never traps on content.
    func recover(logger: Logger) throws(SpoolError) -> Recovery {
        var recovery = Recovery()
        if let bytes = try? POSIXFile.readWholeFile(acknowledgementPath),
            let acknowledgement = Self.decodeAcknowledgement(bytes), acknowledgement.watermark < Self.maxSequence
        {
            recovery.watermark = acknowledgement.watermark
            recovery.acknowledgementGeneration = acknowledgement.generation
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw .io(operation: "list", path: path, errno: EIO)
        }
        let firstSequences = names.compactMap(Self.segmentSequence(fromName:)).sorted()
        var nextSequence = recovery.watermark
        for (index, firstSequence) in firstSequences.enumerated() {
            let segmentPath = segmentPath(firstSequence)
            let limit = index + 1 < firstSequences.count ? firstSequences[index + 1] : Self.maxSequence
            let bytes: [UInt8]
            do {
                bytes = try POSIXFile.readWholeFile(segmentPath)
            } catch {
                logger.error("cannot read spool segment, skipping it", metadata: ["spool.path": "\(segmentPath)", "error": "\(error)"])
                recovery.corruptRecords += 1
                continue
            }
            let scan = Self.scan(bytes, firstSequence: firstSequence, limit: limit, watermark: recovery.watermark)
            if scan.corrupt > 0 {
                logger.warning(
                    "skipped damaged records in spool segment",
                    metadata: ["spool.path": "\(segmentPath)", "spool.damaged": "\(scan.corrupt)"]
                )
            }
            recovery.corruptRecords += scan.corrupt
            if let last = scan.lastSequence {
                nextSequence = max(nextSequence, last + 1)
            }
            if scan.pending == 0 {
                do {
                    try POSIXFile.unlink(segmentPath)
                } catch {
                    logger.warning("cannot delete a spool segment with nothing to replay", metadata: ["error": "\(error)"])
                    nextSequence = max(nextSequence, firstSequence + 1)
                }
                continue
            }
            nextSequence = max(nextSequence, firstSequence + 1)
            recovery.replayedRecords += scan.pending
            recovery.segments.append(
                Segment(firstSequence: firstSequence, size: bytes.count, writtenBytes: bytes.count, sealed: true, pendingRecords: scan.pending)
            )
        }
        recovery.nextSequence = nextSequence
        return recovery
    }

    /// Valid records must carry increasing sequences inside the segment's range
    /// (`firstSequence..<limit`); anything else counts as damage.
    static func scan(_ bytes: [UInt8], firstSequence: UInt64, limit: UInt64, watermark: UInt64) -> (pending: Int, corrupt: Int, lastSequence: UInt64?) {
        var pending = 0
        var corrupt = 0
        var lastSequence: UInt64?
        var inDamage = false
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            scanning: while true {
                switch RecordFrame.step(buffer, at: offset, isFinal: true) {
                case .end, .needMore:
                    break scanning
                case .corrupt(let resumeAt):
                    if !inDamage { corrupt += 1 }
                    inDamage = true
                    offset = resumeAt
                case .record(let sequence, _, let next):
                    offset = next
                    guard sequence >= firstSequence, sequence < limit, lastSequence.map({ sequence > $0 }) ?? true else {
                        if !inDamage { corrupt += 1 }
                        inDamage = true
                        continue
                    }
                    inDamage = false
                    lastSequence = sequence
                    if sequence >= watermark { pending += 1 }
                }
            }
        }
        return (pending, corrupt, lastSequence)
    }
}
