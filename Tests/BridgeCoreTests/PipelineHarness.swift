import BridgeCore
import TrackerCodec
import Foundation
import TestSupport

/// Drives a `ConnectionPipeline` like `decode` does and collects what it publishes.
struct PipelineHarness {
    var pipeline: ConnectionPipeline
    var outputs: [ConnectionPipeline.Output] = []

    init(
        devices: DeviceSettingsTable = DeviceSettingsTable(), limits: DeviceSession.Limits = DeviceSession.Limits(),
        retained: RetainedPositions = RetainedPositions(), publishRaw: Bool = false,
        isAllowed: @escaping @Sendable (String) -> Bool = { _ in true }, transport: Transport = .tcp
    ) {
        let context = ConnectionPipeline.Context(
            normalizer: Normalizer(topics: try! TopicLayout(base: "cctr", instance: "main")),
            devices: devices, limits: limits, publishRaw: publishRaw, retained: retained, isAllowed: isAllowed
        )
        pipeline = ConnectionPipeline(
            context: context, source: PayloadSource(transport: transport, peer: "203.0.113.9:40112", instance: "main")
        )
    }

    static let receivedAt: Int64 = 1_795_550_102_314  // 2026-11-24T...Z, fixed

    mutating func feed(_ text: String, at time: Int64 = receivedAt) {
        pipeline.receive(Array(text.utf8), at: time, into: &outputs)
    }

    mutating func feed(bytes: [UInt8], at time: Int64 = receivedAt) {
        pipeline.receive(bytes, at: time, into: &outputs)
    }

    mutating func close(at time: Int64 = receivedAt) {
        pipeline.close(at: time, into: &outputs)
    }

    var messages: [OutboundMessage] {
        outputs.compactMap {
            if case .publish(let message) = $0 { return message }
            return nil
        }
    }

    func payloads() throws -> [JSONValue] {
        try messages.map { try JSONValue.parse($0.payload) }
    }

    mutating func drain() -> [OutboundMessage] {
        defer { outputs.removeAll() }
        return messages
    }
}

enum Frames {
    static let vendorLogin = "*040331141830UB05123456789012345061825A2934.0133N10627.2544E000.0040331309.6200000000L000000^"
    static func login(_ id: String = "DEV000000000001", time: String = "160254", date: String = "150817", valid: Character = "A") -> String {
        "*\(date)\(time)UB05\(id)\(time)\(valid)2106.8799S14910.2583E000.0\(date)158.3511111111L000000^"
    }
    static func live(time: String = "144927", date: String = "161101", valid: Character = "A", odometer: String = "022043") -> String {
        "*\(date)\(time)UD00\(time)\(valid)1203.5394S07657.7255W000.4\(date)255.0011111111L\(odometer)^"
    }
    static let nofix = "*170821223121UD00061825V0000.0000N00000.0000E000.0040331309.62^"
    static let heartbeat = "*170821223045UB00HSO^"
}
