import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A `mosquitto_sub` child process that records what the broker delivers: an observer that
/// shares no code with the client under test.
///
/// It runs with `-d` so that `start` can wait for SUBACK (messages published before that
/// would be missed), and prints each message as one tab-separated line: retain flag, QoS,
/// topic, payload in hex, response topic, correlation data (MQTT 5 only; tests should use
/// printable correlation data). `stop()` and `deinit` end it with SIGKILL.
public final class MosquittoSubscriber: Sendable {
    public struct Message: Sendable, Hashable {
        public var topic: String
        public var payload: [UInt8]
        public var qos: Int
        public var retain: Bool
        public var responseTopic: String?
        public var correlationData: [UInt8]?

        public var text: String { String(decoding: payload, as: UTF8.self) }
    }

    public struct Timeout: Error, CustomStringConvertible {
        public let description: String
    }

    private struct Output {
        var pending = ""
        var subscribed = false
        var messages: [Message] = []
    }

    /// Held by the pipe's handler; a separate object so the handler does not retain `self`.
    private final class Recorder: Sendable {
        let output = Mutex(Output())
    }

    private let process: Mutex<Process>
    private let recorder = Recorder()

    /// Starts `mosquitto_sub` for `topics` and returns once the broker acknowledged the
    /// subscription. `version` is `mqttv5` or `mqttv311`. With `retainAsPublished` (MQTT 5),
    /// live messages keep the retain flag they were published with, so tests can check it.
    /// With `persistentSessionID`, the session outlives the connection (`-c -i`): the broker
    /// queues messages for it while it is away, and a new subscriber with the same id gets them.
    public init(
        port: Int, topics: [String], qos: Int = 1, version: String = "mqttv5", retainAsPublished: Bool = false,
        persistentSessionID: String? = nil
    ) async throws {
        let process = Process()
        // stdbuf: mosquitto_sub does not flush its debug lines, so SUBACK would sit in a buffer.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/stdbuf")
        process.arguments = ["-oL", "/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", "\(port)", "-q", "\(qos)", "-V", version, "-d",
                             "-F", "MSG\\t%r\\t%q\\t%t\\t%x\\t%R\\t%D"]
            + (retainAsPublished ? ["--retain-as-published"] : [])
            + topics.flatMap { ["-t", $0] }
        if let persistentSessionID {
            process.arguments! += ["-c", "-i", persistentSessionID]
            if version == "mqttv5" { process.arguments! += ["-x", "3600"] }
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { [recorder] handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            recorder.output.withLock { Self.consume(String(decoding: data, as: UTF8.self), into: &$0) }
        }
        try process.runWithDefaultSignalMask()
        self.process = Mutex(process)
        let deadline = ContinuousClock.now + .seconds(5)
        while !recorder.output.withLock({ $0.subscribed }) {
            guard ContinuousClock.now < deadline, self.process.withLock({ $0.isRunning }) else {
                stop()
                throw Timeout(description: "mosquitto_sub on port \(port) did not get SUBACK")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    deinit { stop() }

    public var messages: [Message] { recorder.output.withLock { $0.messages } }

    /// Waits until at least `count` messages arrived or `timeout` passed; returns them all.
    @discardableResult
    public func waitForMessages(count: Int, timeout: Duration = .seconds(10)) async throws -> [Message] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let current = messages
            if current.count >= count || ContinuousClock.now >= deadline { return current }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    public func stop() {
        process.withLock { process in
            if process.isRunning {
                _ = kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    private static func consume(_ text: String, into output: inout Output) {
        output.pending += text
        guard let lastNewline = output.pending.lastIndex(of: "\n") else { return }
        let complete = output.pending[..<lastNewline]
        for line in complete.split(separator: "\n") {
            if line.hasSuffix("received SUBACK") { output.subscribed = true }
            if let message = parse(line) { output.messages.append(message) }
        }
        output.pending = String(output.pending[output.pending.index(after: lastNewline)...])
    }

    private static func parse(_ line: Substring) -> Message? {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard fields.count == 7, fields[0] == "MSG", let qos = Int(fields[2]) else { return nil }
        var payload: [UInt8] = []
        var hex = fields[4][...]
        while hex.count >= 2, let byte = UInt8(hex.prefix(2), radix: 16) {
            payload.append(byte)
            hex = hex.dropFirst(2)
        }
        return Message(
            topic: String(fields[3]),
            payload: payload,
            qos: qos,
            retain: fields[1] == "1",
            responseTopic: fields[5].isEmpty ? nil : String(fields[5]),
            correlationData: fields[6].isEmpty ? nil : Array(fields[6].utf8)
        )
    }
}
