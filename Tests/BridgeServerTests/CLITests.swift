import Foundation
import Synchronization
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

    /// `decode` detects the protocol as `serve` does: an H02 capture decodes to positions,
    /// alarms and events, and a reply (no command waits in `decode`) is `unmatched_reply`.
    @Test func decodeReadsH02Captures() throws {
        let capture = [
            "*HQ,4105131188,V1,101112,A,2106.8799,S,14910.2583,E,012.30,158,241126,FFFFFBFD#",
            "*HQ,4105131188,V4,S20,DONE,101300,101300,A,2106.8799,S,14910.2583,E,0.00,000,241126,FFFFFBFF#",
            "*HQ,4105131188,NBR,103732,722,310,0,6,8106,32010,23,241126,FFFFFBFF,5#",
        ].joined(separator: "\r\n")
        let run = try Self.run(["decode", "--received-at", "2026-11-24T19:55:02.314Z"], stdin: capture)
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
        #expect(lines.map { $0["topic"]?.string ?? "" } == [
            "cctr/4105131188/position", "cctr/4105131188/alarm", "cctr/4105131188/position", "cctr/4105131188/event",
            "cctr/4105131188/event",
        ])
        #expect(lines.map { $0["payload"]?["kind"]?.string } == [nil, nil, nil, "unmatched_reply", "cell_towers"])
        #expect(lines.allSatisfy { $0["payload"]?["source"]?["protocol"]?.string == "h02" })
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

    /// `serve` with a broker that is not there: start-up errors come before any connection.
    static func serve(_ arguments: [String]) throws -> Run {
        try run(["serve", "--mqtt-url", "mqtt://127.0.0.1:1", "--listen", "tcp://127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"] + arguments)
    }

    /// The last line of stderr: the error an operator reads first.
    static func lastLine(_ run: Run) -> String {
        run.stderr.split(separator: "\n").last.map(String.init) ?? ""
    }

    /// A busy port names the option, the address and the fix; not NIO's `bind(descriptor:...)`.
    @Test(arguments: ["listen", "metrics-listen"])
    func aBusyPortNamesTheOptionAndTheAddress(_ option: String) throws {
        let broker = try MosquittoBroker()
        defer { broker.stop() }
        let address = option == "listen" ? "tcp://127.0.0.1:\(broker.port)" : "127.0.0.1:\(broker.port)"
        let run = try Self.serve(["--\(option)", address])
        #expect(run.status == 1)
        #expect(Self.lastLine(run) == "Error: --\(option) \(address): the address is already in use (another process, perhaps another cctr-bridge, holds it): stop that process or choose another port with --\(option)")
    }

    /// The first `mkdir` that fails is reported in words (not `io(operation: "open", ... errno: 2)`).
    @Test func aSpoolDirectoryThatCannotBeCreatedSaysWhy() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cctr-not-a-dir-\(UUID().uuidString)")
        try Data().write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let spool = file.appendingPathComponent("spool").path
        let run = try Self.serve(["--spool-dir", spool])
        #expect(run.status == 1)
        #expect(Self.lastLine(run) == "Error: --spool-dir \(spool): a part of \(spool) is a file, not a directory: choose another --spool-dir")
    }

    @Test func aPasswordInTheBrokerURLIsNeverEchoed() throws {
        for (arguments, environment) in [
            (["serve", "--mqtt-url", "mqtt://fleet:s3cret-pw@127.0.0.1:1883"], nil),
            (["serve"], ["CCTR_MQTT_URL": "mqtt://fleet:s3cret-pw@127.0.0.1:1883"]),
        ] as [([String], [String: String]?)] {
            let run = try Self.run(arguments, environment: environment)
            #expect(run.status == 2)
            #expect(!run.stderr.contains("s3cret-pw"), "\(run.stderr)")
            #expect(run.stderr.contains("invalid --mqtt-url") && run.stderr.contains("must not contain a password"), "\(run.stderr)")
        }
    }

    /// A refused login names the user the bridge sent, so the operator knows which credentials to fix.
    @Test func aRefusedLoginNamesTheUser() async throws {
        let broker = try MosquittoBroker(allowAnonymous: false)
        defer { broker.stop() }
        let bridge = try Running(Self.binary, [
            "serve", "--mqtt-url", "mqtt://fleet-bridge@127.0.0.1:\(broker.port)", "--listen", "tcp://127.0.0.1:0",
            "--metrics-listen", "127.0.0.1:0",
        ], environment: ["CCTR_MQTT_PASSWORD": "wrong"])
        defer { bridge.stop() }
        let deadline = ContinuousClock.now + .seconds(10)
        while !bridge.stderr.contains("not authorized"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(bridge.stderr.contains(
            "not authorized: the broker does not allow user 'fleet-bridge' to connect (Not authorized); check the password"),
            "\(bridge.stderr)")
    }

    /// Started with soft limit 40 and hard limit 80, the bridge raises its soft limit to 80,
    /// names the shortfall against --max-connections at start, and counts and logs (once,
    /// in words) the accepts that fail when trackers use up the descriptors.
    @Test func theOpenFileLimitIsRaisedAndItsExhaustionReported() async throws {
        let devicePort = LoopbackNetwork.freePort(), metricsPort = LoopbackNetwork.freePort()
        let bridge = try Running(URL(fileURLWithPath: "/bin/bash"), [
            "-c", #"ulimit -Sn 40 && ulimit -Hn 80 && exec "$0" "$@""#, Self.binary.path, "serve", "--mqtt-url", "mqtt://127.0.0.1:1",
            "--listen", "tcp://127.0.0.1:\(devicePort)", "--metrics-listen", "127.0.0.1:\(metricsPort)", "--max-connections", "1000",
        ])
        defer { bridge.stop() }
        let deadline = ContinuousClock.now + .seconds(15)
        while !LoopbackNetwork.isAccepting(port: devicePort), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let limits = try String(contentsOfFile: "/proc/\(bridge.process.processIdentifier)/limits", encoding: .utf8)
        let openFiles = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") }?.split(separator: " ")
        #expect(openFiles?.dropFirst(3).prefix(2) == ["80", "80"], "\(limits)")
        #expect(bridge.stderr.contains("open-file limit 80 is below --max-connections 1000 plus 64"))

        var trackers: [TrackerClient] = []
        while !bridge.stderr.contains("open-file limit reached"), trackers.count < 200, ContinuousClock.now < deadline {
            trackers.append(try TrackerClient(tcpPort: devicePort))
        }
        while !bridge.stderr.contains("open-file limit reached"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(bridge.stderr.contains("open-file limit reached (80): raise LimitNOFILE or ulimit -n"))
        // Held past two pauses: each resumed accept then fails first in its wake-up, the case
        // in which NIO's own backoff handler let the listener spin.
        try await Task.sleep(for: .milliseconds(2_500))
        trackers.removeAll()
        // The bridge answers on its metrics port again once the closed trackers' descriptors
        // are back, after at most a second or two of accept backoff.
        let metricsDeadline = ContinuousClock.now + .seconds(15)
        var metrics = ""
        while !metrics.contains("cctr_accept_errors_total"), ContinuousClock.now < metricsDeadline {
            metrics = (try? LoopbackHTTP.get(port: metricsPort, path: "/metrics").text) ?? ""
            if metrics.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        let emfile = metrics.split(separator: "\n").first { $0.hasPrefix(#"cctr_accept_errors_total{reason="EMFILE"}"#) }
        let count = emfile?.split(separator: " ").last.flatMap { Double($0) } ?? 0
        // With the accept pause, failures come about once a second per listener, not in a spin.
        #expect(count >= 1 && count < 20, "\(emfile ?? "no EMFILE line"); bridge stderr ends: \(bridge.stderr.suffix(1500))")
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
        _ = try await eventually {
            subscriber.messages.contains { $0.topic == "cctr/bridge/cli/state" && $0.text == "offline" }
        }
        let messages = subscriber.messages
        #expect(messages.contains { $0.topic == "cctr/CC8011400042499/availability" && $0.text == "offline" && $0.retain })
        #expect(messages.contains { $0.topic == "cctr/bridge/cli/state" && $0.text == "offline" && $0.retain })
        #expect(messages.contains { $0.topic == "cctr/bridge/cli/info" && $0.retain })
    }
}

/// A child process left running while the test watches its stderr.
final class Running: Sendable {
    let process: Process
    private let errors = Pipe()
    private let captured = Mutex("")

    init(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws {
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardError = errors
        // Holds `self` until `stop()` removes the handler.
        errors.fileHandleForReading.readabilityHandler = { [self] handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            captured.withLock { $0 += text }
        }
        try process.runWithDefaultSignalMask()
    }

    var stderr: String { captured.withLock { $0 } }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        errors.fileHandleForReading.readabilityHandler = nil
    }
}
