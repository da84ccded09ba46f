import ArgumentParser
import Dispatch
import Foundation
import Mosquitto

/// `cctr-bench publish`: the broker's limit for the bridge's payloads. It publishes
/// pre-generated position messages straight from a `MosquittoClient` with the bridge's
/// in-flight window and nothing else in the way (no sockets from devices, no decoding, no
/// spool), so the bridge's end-to-end rate can be put next to it.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish the bridge's position payloads straight to the broker and report msgs/s.",
        discussion: """
            Messages are generated before timing starts. With QoS 1 at most --window are \
            unacknowledged at once, as in the bridge's PublishPipeline; with QoS 0 the rate is \
            how fast libmosquitto takes them (measure delivery with `subscribe`). Prints one \
            JSON line on stdout.
            """)

    /// The bridge's default `--mqtt-max-inflight`, so that the raw limit is measured with the
    /// window the bridge uses.
    static let bridgeWindow = 256

    @OptionGroup var broker: BrokerOptions

    @Option(help: "QoS of the publishes (0 or 1).")
    var qos = 1

    @Option(help: "Messages to publish.")
    var count = 200_000

    @Option(help: "Stop after this many seconds even if --count is not reached.")
    var duration: Double?

    @Option(help: "Devices the messages are spread over (round robin).")
    var devices = 1000

    @Option(help: "Messages per second, evenly spaced; none = as fast as the window allows. For latency at a given load.")
    var rate: Double?

    @Option(help: "Publishes unacknowledged at once (QoS 1).")
    var window = bridgeWindow

    @Option(help: "Write 'device_id seq unix_time_ns' per message, at the time it was handed to libmosquitto.")
    var sendLog: String?

    func validate() throws {
        guard (0...1).contains(qos) else { throw ValidationError("--qos must be 0 or 1.") }
        guard count > 0, devices > 0, window > 0 else { throw ValidationError("--count, --devices and --window must be positive.") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be positive.") }
    }

    func run() async throws {
        let payloads = try PositionPayloads(count: count, devices: devices, base: broker.base)
        let connection = try await BenchClient.connect(broker, clientID: "cctr-bench-pub-\(getpid())")
        let drainEvents = Task { for await _ in connection.events {} }
        let result = try await publishAll(payloads.messages, client: connection.client)
        await connection.disconnect()
        _ = await drainEvents.value

        if let sendLog {
            var text = ""
            for (message, time) in zip(payloads.messages, result.sentAt.prefix(result.published)) {
                text += "\(message.deviceID) \(message.sequence) \(time)\n"
            }
            // Renamed into place, so that a subscriber waiting for the file reads it whole.
            try Data(text.utf8).write(to: URL(fileURLWithPath: sendLog + ".partial"))
            try FileManager.default.moveItem(atPath: sendLog + ".partial", toPath: sendLog)
        }
        let rate = Double(result.published) / result.seconds
        print(#"{"qos":\#(qos),"published":\#(result.published),"failed":\#(result.failed),"seconds":\#(result.seconds),"messages_per_second":\#(rate)}"#)
        FileHandle.standardError.write(Data("published \(result.published) at QoS \(qos) in \(String(format: "%.2f", result.seconds)) s: \(Int(rate)) msg/s (\(result.failed) failed)\n".utf8))
    }

    private struct Outcome {
        var published: Int
        var failed: Int
        var seconds: Double
        var sentAt: [Int64]
    }

    /// Runs on a thread of its own: the window is a semaphore the publishing loop blocks on,
    /// released by completions on libmosquitto's loop thread.
    private func publishAll(_ messages: [PositionPayloads.Message], client: MosquittoClient) async throws -> Outcome {
        let qos = qos
        let window = DispatchSemaphore(value: self.window)
        let allDone = DispatchSemaphore(value: 0)
        let pending = Counter(1)
        let failed = Counter()
        let deadline = duration.map { ContinuousClock.now + .nanoseconds(Int64($0 * 1e9)) }
        let spacing = rate.map { Duration.nanoseconds(Int64(1e9 / $0)) }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            let thread = Thread {
                var sentAt = [Int64](repeating: 0, count: messages.count)
                let started = ContinuousClock.now
                var published = 0
                for (index, message) in messages.enumerated() {
                    if index % 1024 == 0, let deadline, ContinuousClock.now >= deadline { break }
                    if let spacing {
                        // Paced from the start, not from the previous send, so a late send
                        // does not slow the rest down (the next ones go at once).
                        let due = started + spacing * index
                        let now = ContinuousClock.now
                        if due > now {
                            let wait = (due - now).components
                            Thread.sleep(forTimeInterval: Double(wait.seconds) + Double(wait.attoseconds) / 1e18)
                        }
                    }
                    if qos > 0 { window.wait() }
                    pending.add(1)
                    sentAt[index] = SubscribeCommand.now()
                    client.publish(topic: message.topic, payload: message.payload, qos: qos, retain: message.retain) { result in
                        if case .failure = result { failed.add(1) }
                        if qos > 0 { window.signal() }
                        if pending.add(-1) == 0 { allDone.signal() }
                    }
                    published += 1
                }
                if pending.add(-1) == 0 { allDone.signal() }
                allDone.wait()
                let elapsed = ContinuousClock.now - started
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let failures = Int(failed.value)
                continuation.resume(returning: Outcome(
                    published: published - failures, failed: failures, seconds: seconds, sentAt: sentAt))
            }
            thread.start()
        }
    }
}
