/// What a measuring subscriber saw, per device: de-duplicated by payload id, ordered by the
/// sequence `cctr-sim` puts in the odometer, timestamped at receipt.
///
/// Reordering is counted per device across all of its topics: the bridge publishes a device's
/// messages in the order its frames arrived over one MQTT connection, and the broker keeps
/// that order towards one subscriber.
struct DeliveryTally {
    private struct Device {
        var highestSequence: UInt64 = 0
        var lowestSequence: UInt64 = .max
        /// First receipt time (Unix ns) of each sequence number.
        var receipts: [UInt64: Int64] = [:]

        mutating func record(_ sequence: UInt64, at unixNanoseconds: Int64, reordered: inout Int) {
            if sequence < highestSequence { reordered += 1 }
            highestSequence = max(highestSequence, sequence)
            lowestSequence = min(lowestSequence, sequence)
            if receipts[sequence] == nil { receipts[sequence] = unixNanoseconds }
        }
    }

    /// Every message counted, duplicates included.
    private(set) var received = 0
    /// Messages whose id had been seen before.
    private(set) var duplicates = 0
    /// New messages whose sequence is lower than one already received from the same device.
    private(set) var reordered = 0
    /// New messages without a sequence (no status tail, e.g. no-fix positions).
    private(set) var withoutSequence = 0
    /// Retained messages (sent for the subscription, not by the run).
    var ignoredRetained = 0
    /// Payloads without an id or device id.
    var ignoredUnreadable = 0
    private(set) var firstReceipt: Int64?
    private(set) var lastReceipt: Int64?
    private var seenIDs = Set<UInt64>()
    private var devices: [String: Device] = [:]

    var unique: Int { received - duplicates }
    var deviceCount: Int { devices.count }

    mutating func record(_ fields: PayloadFields, at unixNanoseconds: Int64) {
        received += 1
        firstReceipt = firstReceipt ?? unixNanoseconds
        lastReceipt = unixNanoseconds
        guard seenIDs.insert(fields.id).inserted else {
            duplicates += 1
            return
        }
        guard let sequence = fields.sequence else {
            withoutSequence += 1
            return
        }
        devices[fields.deviceID, default: Device()].record(sequence, at: unixNanoseconds, reordered: &reordered)
    }

    /// Sequence numbers missing between a device's lowest and highest received one: loss
    /// seen without a send log (it cannot see a lost tail).
    var gaps: Int {
        devices.values.reduce(0) { total, device in
            total + Int(device.highestSequence - device.lowestSequence + 1) - device.receipts.count
        }
    }

    /// The receipt time of a device's message with this sequence, if it arrived.
    func receipt(deviceID: String, sequence: UInt64) -> Int64? {
        devices[deviceID]?.receipts[sequence]
    }
}
