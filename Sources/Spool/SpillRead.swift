/// One read of records that live only on disk, planned under the spool lock by
/// `SpoolState.nextSpillRead` and done by the flusher thread without it: the `pread` and the
/// parsing never hold up `take` (the publisher) or appends (the device event loops).
/// `SpoolState.completeSpillRead` queues the result only if the spill cursor has not moved
/// meanwhile (a `drop-oldest` may have dropped the segment).
struct SpillRead {
    let segment: UInt64
    let path: String
    let offset: Int
    let count: Int
    /// The read reaches the end of what the flusher has written: a frame running past it is a
    /// torn tail, not a short read.
    let isFinal: Bool
    /// Records below this sequence are in memory or acknowledged already: skipped.
    let fromSequence: UInt64
    /// The next segment's first sequence: records at or above it are not this segment's.
    let limit: UInt64
    /// Bytes the ready queue had room for when planned; at least one record is queued anyway.
    let budget: Int
    /// Where reading resumes if this segment cannot be read.
    let writtenEnd: Int

    /// The records of one read, in file order.
    struct Parsed {
        var records: [SpoolState.QueuedRecord] = []
        var recordBytes = 0
        /// Bytes of the read that are done with (queued, skipped or corrupt).
        var consumed = 0
        /// How many bytes the next read from the same offset needs: more than a chunk when a
        /// record did not fit.
        var wanted = SpoolState.readChunkBytes
        var nextSequence: UInt64
    }

    /// Splits `bytes` (read from `offset`) into records, at least one and then up to `budget`.
    func parse(_ bytes: [UInt8]) -> Parsed {
        var parsed = Parsed(nextSequence: fromSequence)
        bytes.withUnsafeBytes { buffer in
            parsing: while parsed.records.isEmpty || parsed.recordBytes < budget {
                switch RecordFrame.step(buffer, at: parsed.consumed, isFinal: isFinal) {
                case .end:
                    break parsing
                case .needMore(let bytes):
                    parsed.wanted = max(bytes, SpoolState.readChunkBytes)
                    break parsing
                case .corrupt(let resumeAt):
                    parsed.consumed = resumeAt
                case .record(let sequence, let range, let next):
                    parsed.consumed = next
                    if sequence >= parsed.nextSequence && sequence < limit {
                        let record = Array(buffer[range])
                        parsed.records.append(SpoolState.QueuedRecord(sequence: sequence, record: record))
                        parsed.recordBytes += record.count
                        parsed.nextSequence = sequence + 1
                    }
                }
            }
        }
        return parsed
    }
}
