/// Identifies one appended record. Sequences grow in append order and keep growing across
/// restarts, so comparing two ids compares their append order.
public struct SpoolEntryID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let sequence: UInt64

    public init(sequence: UInt64) {
        self.sequence = sequence
    }

    public static func < (lhs: SpoolEntryID, rhs: SpoolEntryID) -> Bool {
        lhs.sequence < rhs.sequence
    }

    public var description: String { String(sequence) }
}

/// A record handed to the publisher: acknowledge `id` once the broker has it.
public struct SpoolEntry: Sendable {
    public let id: SpoolEntryID
    public let record: [UInt8]

    public init(id: SpoolEntryID, record: [UInt8]) {
        self.id = id
        self.record = record
    }
}
