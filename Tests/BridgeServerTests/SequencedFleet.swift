import Foundation
import TestSupport

/// Fake trackers that number their positions in the odometer field (1, 2, 3, ...), like
/// `cctr-sim`, so a subscriber can count what was lost, duplicated or reordered.
final class SequencedFleet: @unchecked Sendable {
    // @unchecked: used from one task at a time (the test's), never concurrently.
    let ids: [String]
    private(set) var clients: [String: TrackerClient] = [:]
    /// The last sequence number sent per device.
    private(set) var sent: [String: Int] = [:]

    init(count: Int, prefix: String = "FLT") {
        ids = (1...count).map { prefix + String(repeating: "0", count: 15 - prefix.count - String($0).count) + String($0) }
        for id in ids { sent[id] = 0 }
    }

    var totalSent: Int { sent.values.reduce(0, +) }

    static func login(_ id: String) -> String {
        "*150817160254UB05\(id)160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^"
    }

    static func position(sequence: Int) -> String {
        let odometer = String(sequence)
        return "*150817160254UD00160254A2106.8799S14910.2583E000.0150817158.3511111111L"
            + String(repeating: "0", count: max(0, 6 - odometer.count)) + odometer + "^"
    }

    /// (Re)connects every device and sends its login.
    func connect(port: Int) throws {
        for id in ids {
            let client = try TrackerClient(tcpPort: port)
            try client.send(Self.login(id))
            clients[id] = client
        }
    }

    /// Sends the next position of every device; a device whose socket broke is skipped
    /// (its frame is not counted as sent).
    func sendRound() {
        for id in ids {
            guard let client = clients[id] else { continue }
            let next = sent[id, default: 0] + 1
            do {
                try client.send(Self.position(sequence: next))
                sent[id] = next
            } catch {
                clients[id] = nil
            }
        }
    }

    func disconnect() { clients.removeAll() }
}

/// What reached the broker for a fleet: per device, the sequence numbers in order of arrival.
struct DeliveryReport: CustomStringConvertible {
    var sent = 0
    var delivered = 0
    var duplicates = 0
    var missing: [String: [Int]] = [:]
    var outOfOrder: [String: [Int]] = [:]

    /// De-duplicates by payload `id` (keeping first arrivals) and checks each device's
    /// sequence numbers arrive in order with none missing up to what was sent.
    init(messages: [MosquittoSubscriber.Message], sent: [String: Int], base: String = "cctr") {
        self.sent = sent.values.reduce(0, +)
        var seenIDs = Set<String>()
        var sequences: [String: [Int]] = [:]
        for message in messages where message.topic.hasSuffix("/position") {
            guard let json = message.json, let id = json["id"]?.string, let device = json["device_id"]?.string,
                sent[device] != nil, case .number(let odometer)? = json["odometer_m"], odometer > 0
            else { continue }
            guard seenIDs.insert(id).inserted else {
                duplicates += 1
                continue
            }
            sequences[device, default: []].append(Int(odometer))
        }
        for (device, last) in sent {
            let arrived = sequences[device] ?? []
            delivered += arrived.count
            let got = Set(arrived)
            let gaps = (1...max(1, last)).filter { last > 0 && !got.contains($0) }
            if !gaps.isEmpty { missing[device] = gaps }
            let disorder = zip(arrived, arrived.dropFirst()).filter { $0.0 >= $0.1 }.map(\.1)
            if !disorder.isEmpty { outOfOrder[device] = disorder }
        }
    }

    var description: String {
        "sent \(sent), delivered \(delivered) (unique), duplicates \(duplicates), missing \(missing.values.map(\.count).reduce(0, +)), out of order \(outOfOrder.values.map(\.count).reduce(0, +))"
    }
}
