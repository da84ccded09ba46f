import ArgumentParser
import BridgeCore
import BridgeServer
import TrackerCodec
#if canImport(Glibc)
import Glibc
#endif

/// `cctr-bridge decode`: stdin is one TCP connection from one tracker; stdout carries one
/// JSON line per message, in the order `serve` would publish them.
struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode a capture from stdin into the JSON lines serve would publish."
    )

    @Option(help: "Topic base.")
    var topicBase = "cctr"

    @Option(help: "Instance name, used in source.instance and bridge topics.")
    var instance = "main"

    @Option(help: "Time-zone offset of the device header clock (±HH:MM).")
    var deviceTz = "+00:00"

    @Option(help: "Unit of the device's speed field: kmh, knots or mph.")
    var speedUnit = "kmh"

    @Option(help: "Longest accepted frame in bytes, from * to ^ inclusive.")
    var maxFrameBytes = 1024

    @Option(help: "Fixed received_at (YYYY-MM-DDTHH:MM:SS[.sss]Z) instead of the wall clock.")
    var receivedAt: String?

    func validate() throws {
        _ = try makeContext()
        if let receivedAt, ISOTimestamp.parseMilliseconds(receivedAt) == nil {
            throw ValidationError("--received-at must look like 2026-11-24T19:55:02.314Z")
        }
    }

    /// The pipeline's settings from the flags; `validate` calls it first, so a bad flag
    /// stops the command before any input is read.
    private func makeContext() throws -> ConnectionPipeline.Context {
        let topics: TopicLayout
        do {
            topics = try TopicLayout(base: topicBase, instance: instance)
        } catch {
            throw ValidationError(error.description)
        }
        guard let offset = DeviceSettings.parseOffset(deviceTz) else {
            throw ValidationError("--device-tz must look like +08:00 or -03:30")
        }
        guard let unit = SpeedUnit(rawValue: speedUnit) else {
            throw ValidationError("--speed-unit must be kmh, knots or mph")
        }
        guard maxFrameBytes >= 20, maxFrameBytes <= 1_048_576 else {
            throw ValidationError("--max-frame-bytes must be between 20 and 1048576")
        }
        return ConnectionPipeline.Context(
            normalizer: Normalizer(topics: topics),
            devices: DeviceSettingsTable(defaults: DeviceSettings(timeZoneOffsetSeconds: offset, speedUnit: unit)),
            codec: CodecOptions(maxFrameBytes: maxFrameBytes)
        )
    }

    func run() throws {
        let fixedTime = receivedAt.flatMap(ISOTimestamp.parseMilliseconds)
        var pipeline = ConnectionPipeline(
            context: try makeContext(),
            source: PayloadSource(transport: .tcp, peer: "stdin", instance: instance)
        )
        var outputs: [ConnectionPipeline.Output] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let output = BufferedOutput()
        while true {
            let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            let now = fixedTime ?? WallClock.milliseconds()
            if count <= 0 {
                pipeline.close(at: now, into: &outputs)
                output.write(Self.withUnmatchedReplies(outputs, pipeline: pipeline, at: now))
                break
            }
            pipeline.receive(chunk[0..<count], at: now, into: &outputs)
            output.write(Self.withUnmatchedReplies(outputs, pipeline: pipeline, at: now))
            outputs.removeAll(keepingCapacity: true)
        }
        output.flush()
    }
}

extension Decode {
    /// No command waits in `decode`, so every frame its protocol calls a command reply (H02
    /// `V4`) is an `unmatched_reply` event, right after the frame's own messages, as `serve`
    /// publishes it when no command is in flight.
    static func withUnmatchedReplies(
        _ outputs: [ConnectionPipeline.Output], pipeline: ConnectionPipeline, at now: Int64
    ) -> [ConnectionPipeline.Output] {
        var result: [ConnectionPipeline.Output] = []
        result.reserveCapacity(outputs.count)
        for output in outputs {
            result.append(output)
            guard case .decoded(let message, let deviceID?) = output, message.isCommandReply else { continue }
            let event = pipeline.context.normalizer.event(
                message, kind: .unmatchedReply, deviceID: deviceID, settings: pipeline.context.devices[deviceID],
                receivedAt: now, source: pipeline.source)
            result.append(.publish(event))
        }
        return result
    }
}

/// Buffers stdout writes of decode lines.
private final class BufferedOutput {
    private var buffer: [UInt8] = []

    func write(_ outputs: [ConnectionPipeline.Output]) {
        for case .publish(let message) in outputs where DecodeLine.isEmitted(message.kind) {
            buffer.append(contentsOf: DecodeLine.format(message))
        }
        if buffer.count > 60_000 { flush() }
    }

    func flush() {
        var offset = 0
        while offset < buffer.count {
            let written = buffer[offset...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { break }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

enum FileHandleOutput {
    static func standardError(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
