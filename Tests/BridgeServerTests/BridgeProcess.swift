import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The built `cctr-bridge serve` binary as a child process on fixed loopback ports, so tests
/// can SIGKILL it and start it again on the same spool, and read its memory use and metrics.
final class BridgeProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test's own task (start/kill/stop).
    let tcpPort = LoopbackNetwork.freePort()
    let metricsPort = LoopbackNetwork.freePort()
    let arguments: [String]
    let logFile = FileManager.default.temporaryDirectory.appendingPathComponent("cctr-bridge-\(UUID().uuidString).log")
    private var process: Process?

    /// The executable SwiftPM builds next to the test bundle.
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cctr-bridge")
    }

    /// - Parameter arguments: `serve` options besides `--listen` and `--metrics-listen`.
    init(arguments: [String]) {
        self.arguments = arguments
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
    }

    deinit {
        kill(SIGKILL)
        try? FileManager.default.removeItem(at: logFile)
    }

    /// Starts the bridge and waits until its device port accepts connections.
    func start() throws {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = [
            "serve", "--listen", "tcp://127.0.0.1:\(tcpPort)", "--metrics-listen", "tcp://127.0.0.1:\(metricsPort)",
            "--instance", "fault", "--log-level", "info",
        ] + arguments
        let log = try FileHandle(forWritingTo: logFile)
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.runWithDefaultSignalMask()
        self.process = process
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, process.isRunning {
            if LoopbackNetwork.isAccepting(port: tcpPort) { return }
            usleep(20_000)
        }
        throw POSIXError(.ECONNREFUSED)
    }

    var isRunning: Bool { process?.isRunning ?? false }

    func kill(_ signal: Int32) {
        guard let process, process.isRunning else { return }
        _ = Glibc.kill(process.processIdentifier, signal)
        process.waitUntilExit()
        self.process = nil
    }

    /// Sends `signal` and waits for the exit at most `limit`: how long the exit took, or nil
    /// when it did not come (the process is then SIGKILLed).
    func stop(_ signal: Int32, within limit: Duration) async -> Duration? {
        guard let process, process.isRunning else { return nil }
        let start = ContinuousClock.now
        _ = Glibc.kill(process.processIdentifier, signal)
        while process.isRunning {
            guard ContinuousClock.now - start < limit else {
                kill(SIGKILL)
                return nil
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        self.process = nil
        return ContinuousClock.now - start
    }

    /// The last line the bridge logged.
    var lastLogLine: String {
        log.split(separator: "\n").last.map(String.init) ?? ""
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Resident memory in KiB (`VmRSS` of /proc), nil when not running.
    var residentKiB: Int? {
        guard let process,
            let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }

    /// The sum of every sample of a Prometheus metric family, nil when `/metrics` does not answer.
    func metric(_ name: String) -> Double? {
        try? LoopbackHTTP.metric(name, port: metricsPort)
    }

    /// The body of `/readyz`: why the bridge is not ready, or the broker it is connected to.
    var readiness: String? { try? LoopbackHTTP.get(port: metricsPort, path: "/readyz").text }
}
