import BridgeCore

/// The bridge's own position messages for a simulated fleet, made by the bridge's own
/// `ConnectionPipeline` (splitter, decoder, session, `Normalizer`), so the raw publisher sends
/// byte for byte what the bridge would.
///
/// Message `i` belongs to device `i % devices` and carries sequence `i / devices + 1` in its
/// odometer, like `cctr-sim`: the first message of every device is its `UB05` login.
struct PositionPayloads {
    struct Message {
        var topic: String
        var payload: [UInt8]
        var retain: Bool
        var deviceID: String
        var sequence: UInt64
    }

    let messages: [Message]

    init(count: Int, devices: Int, base: String) throws {
        let context = ConnectionPipeline.Context(normalizer: Normalizer(topics: try TopicLayout(base: base)))
        let source = PayloadSource(transport: .tcp, peer: "127.0.0.1:40000", instance: "main")
        var pipelines = Array(repeating: ConnectionPipeline(context: context, source: source), count: devices)
        let ids = (0..<devices).map { "BENCH" + Self.zeroPadded(UInt64($0), width: 10) }
        var messages: [Message] = []
        messages.reserveCapacity(count)
        var outputs: [ConnectionPipeline.Output] = []
        let receivedAt: Int64 = 1_795_550_102_314
        for index in 0..<count {
            let device = index % devices
            let sequence = UInt64(index / devices + 1)
            let frame = Self.frame(deviceID: ids[device], sequence: sequence, login: sequence == 1)
            pipelines[device].receive(frame, at: receivedAt, into: &outputs)
            for case .publish(let message) in outputs where message.kind == .position {
                messages.append(Message(
                    topic: message.topic, payload: message.payload, retain: message.retain,
                    deviceID: ids[device], sequence: sequence))
            }
            outputs.removeAll(keepingCapacity: true)
        }
        guard messages.count == count else {
            throw BenchError("generated \(messages.count) position messages instead of \(count)")
        }
        self.messages = messages
    }

    /// A `UB05` login or a `UD00` position with a valid fix, as the sample captures.
    static func frame(deviceID: String, sequence: UInt64, login: Bool) -> [UInt8] {
        let body = login ? "UB05" + deviceID : "UD00"
        let gps = "144927A1203.5394S07657.7255W000.4161101255.0011111111L" + zeroPadded(sequence, width: 6)
        return Array(("*161101144927" + body + gps + "^").utf8)
    }

    static func zeroPadded(_ value: UInt64, width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
