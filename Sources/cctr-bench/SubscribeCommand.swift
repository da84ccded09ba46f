import ArgumentParser
import Foundation
import Mosquitto

/// `cctr-bench subscribe`: counts the bridge's position, history and alarm messages until the
/// traffic stops, then joins them with a send log for loss and latency.
struct SubscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Count messages on <base>/+/position, history and alarm; report loss, duplicates, reordering and latency.",
        discussion: """
            Prints the report as one JSON line on stdout and as text on stderr. Ends after \
            --idle seconds without a message once traffic has started, after --max-duration, \
            or once --expect unique messages arrived. Retained messages (left from earlier \
            runs) are ignored.
            """)

    @OptionGroup var broker: BrokerOptions

    @Option(help: "Subscription QoS.")
    var qos = 1

    @Option(help: "Send log of the sender (cctr-sim --send-log or cctr-bench publish --send-log), read at the end.")
    var sendLog: String?

    @Option(help: "Seconds from the first send after which latency is also reported apart (steady state).")
    var warmUp = 2.0

    @Option(help: "Seconds without a message, after the first, that end the measurement.")
    var idle = 3.0

    @Option(help: "Seconds after which the measurement ends regardless.")
    var maxDuration = 600.0

    @Option(help: "End once this many unique messages arrived.")
    var expect: Int?

    @Option(help: "Create this file once subscribed, so that a script can start the sender.")
    var readyFile: String?

    @Option(help: "Also write the JSON report to this file.")
    var output: String?

    func run() async throws {
        let connection = try await BenchClient.connect(broker, clientID: "cctr-bench-sub-\(getpid())")
        for leaf in ["position", "history", "alarm"] {
            try await connection.client.subscribe("\(broker.base)/+/\(leaf)", qos: qos)
        }
        if let readyFile { _ = FileManager.default.createFile(atPath: readyFile, contents: Data()) }

        let lastActivity = Counter()
        let watchdog = Task {
            let started = Self.now()
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                let last = lastActivity.value
                let now = Self.now()
                if (last > 0 && Double(now - last) / 1e9 > idle) || Double(now - started) / 1e9 > maxDuration { break }
            }
            await connection.client.disconnect()
        }
        var tally = DeliveryTally()
        for await event in connection.events {
            guard case .message(let message) = event else { continue }
            guard !message.retain else {
                tally.ignoredRetained += 1
                continue
            }
            let now = Self.now()
            lastActivity.store(now)
            guard let fields = PayloadFields(message.payload) else {
                tally.ignoredUnreadable += 1
                continue
            }
            tally.record(fields, at: now)
            if let expect, tally.unique >= expect { watchdog.cancel() }
        }
        await connection.disconnect()
        _ = await watchdog.result

        var entries: [SendLogReader.Entry]?
        if let sendLog { entries = try await SendLogReader.read(path: sendLog) }
        let report = DeliveryReport(tally: tally, sendLog: entries, warmUp: warmUp)
        let json = try report.json()
        print(json)
        FileHandle.standardError.write(Data((report.text + "\n").utf8))
        if let output { try Data((json + "\n").utf8).write(to: URL(fileURLWithPath: output)) }
    }

    static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
