import Foundation
import TestSupport
import Testing

/// The `cctr-bridge` executable as an operator runs it.
@Suite struct CLITests {
    /// The built executable, next to the test bundle.
    static let binary: URL = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
        ]
        for directory in candidates {
            let url = directory.appendingPathComponent("cctr-bridge")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return candidates[0].appendingPathComponent("cctr-bridge")
    }()

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], stdin: String = "", environment: [String: String]? = nil) throws -> Run {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let environment { process.environment = environment }
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.runWithDefaultSignalMask()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    @Test func decodeTurnsEveryPublicFrameIntoLines() throws {
        let capture = PublicFrame.all.map(\.frame).joined(separator: "\r\n") + "\r\ntrailing garbage"
        let run = try Self.run(["decode", "--received-at", "2026-11-24T19:55:02.314Z", "--instance", "cli"], stdin: capture)
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n").map { try? JSONValue.parse(Array($0.utf8)) }
        // Every frame but the two heartbeats yields one line; the garbage one dead letter.
        #expect(lines.count == PublicFrame.all.count - 2 + 1)
        #expect(lines.allSatisfy { $0?["qos"] == .number(1) && $0?["topic"]?.string != nil })
        #expect(lines.last??["payload"]?["reason"]?.string == "garbage")
        #expect(lines.first??["payload"]?["source"]?["instance"]?.string == "cli")
        #expect(!run.stdout.contains("availability") && !run.stdout.contains("/status"))
    }

    @Test func decodeDeadLettersWhatIsStillHeldAtTheEnd() throws {
        let run = try Self.run(["decode"], stdin: "*161101144927UD00144927A1203.5394S07657.7255W000.4161101255.0011111111L022043^")
        #expect(run.status == 0)
        #expect(run.stdout.contains(#""reason":"never identified""#))
    }

    @Test(arguments: [
        ["decode", "--speed-unit", "furlongs"], ["decode", "--device-tz", "8"], ["decode", "--topic-base", "a/#"],
        ["decode", "--max-frame-bytes", "3"], ["serve", "--instance", "no/slash"], ["serve", "--spool-sync", "sometimes"],
        ["--no-such-flag"],
    ])
    func badOptionsExitWithTwo(_ arguments: [String]) throws {
        let run = try Self.run(arguments)
        #expect(run.status == 2, "\(arguments): \(run.stderr)")
        #expect(!run.stderr.isEmpty)
    }

    @Test func helpListsEveryOptionWithItsDefault() throws {
        let run = try Self.run(["serve", "--help"])
        #expect(run.status == 0)
        for option in ["--listen", "--mqtt-url", "--spool-sync", "--frame-rate-limit", "--held-frames-age", "--share-group"] {
            #expect(run.stdout.contains(option), "\(option)")
        }
        #expect(run.stdout.contains("1073741824"))
    }

    /// SIGTERM: devices and the bridge go offline, the process exits 0.
    @Test func serveShutsDownCleanlyOnSIGTERM() async throws {
        let broker = try MosquittoBroker()
        defer { broker.stop() }
        let subscriber = try await MosquittoSubscriber(port: broker.port, topics: ["cctr/#"], retainAsPublished: true)
        defer { subscriber.stop() }
        let devicePort = LoopbackNetwork.freePort()
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("cctr-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: spool) }
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = [
            "serve", "--mqtt-url", broker.url, "--listen", "tcp://127.0.0.1:\(devicePort)",
            "--metrics-listen", "127.0.0.1:0", "--spool-dir", spool.path, "--instance", "cli",
        ]
        process.standardError = FileHandle.nullDevice
        try process.runWithDefaultSignalMask()
        let deadline = ContinuousClock.now.advanced(by: .seconds(15))
        while !LoopbackNetwork.isAccepting(port: devicePort), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let tracker = try TrackerClient(tcpPort: devicePort)
        try tracker.send("*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^")
        while !subscriber.messages.contains(where: { $0.topic == "cctr/CC8011400042499/position" }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        try await Task.sleep(for: .milliseconds(300))
        let messages = subscriber.messages
        #expect(messages.contains { $0.topic == "cctr/CC8011400042499/availability" && $0.text == "offline" && $0.retain })
        #expect(messages.contains { $0.topic == "cctr/bridge/cli/state" && $0.text == "offline" && $0.retain })
        #expect(messages.contains { $0.topic == "cctr/bridge/cli/info" && $0.retain })
    }
}
