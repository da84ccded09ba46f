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

    /// The sum of every sample of a Prometheus metric family (`name{...} value` lines).
    func metric(_ name: String) -> Double? {
        guard let text = httpGet(path: "/metrics") else { return nil }
        var sum = 0.0
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            sum += Double(line.split(separator: " ").last ?? "") ?? 0
        }
        return sum
    }

    /// The body of `/readyz`: why the bridge is not ready, or the broker it is connected to.
    var readiness: String? { httpGet(path: "/readyz") }

    /// A minimal HTTP/1.0 GET on the metrics port (no URLSession: the test should not depend on it).
    private func httpGet(path: String) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(metricsPort).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        return text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) }
    }
}
