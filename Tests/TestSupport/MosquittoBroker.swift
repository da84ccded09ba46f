import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A real `/usr/sbin/mosquitto` on a free 127.0.0.1 port, for tests.
///
/// Its config avoids the defaults that make tests lie: `max_queued_messages 0` (the default
/// 1000 silently drops QoS 1 messages for slow subscribers), `set_tcp_nodelay true` (as
/// deploy/mosquitto recommends: Nagle's algorithm adds up to 40 ms per PUBACK), and, with `persistence`, a save
/// every second into the broker's own temporary directory. Running as root it keeps root
/// (`user root`) instead of dropping to `mosquitto`, which could not write that directory.
/// The process is killed and the directory removed in `deinit`, so nothing outlives a test.
public final class MosquittoBroker: Sendable {
    public struct StartError: Error, CustomStringConvertible {
        public let port: Int
        public let log: String

        public var description: String { "mosquitto did not accept connections on port \(port):\n\(log)" }
    }

    public let port: Int
    /// Temporary directory holding the config, the log and (with persistence) the database.
    public let directory: URL
    private let process = Mutex<Process?>(nil)

    /// Starts the broker, waiting until its port accepts connections. A port lost to another
    /// process between picking and binding is replaced by a new one. Without
    /// `allowAnonymous` (and no password file) it refuses every login. `settings` are config
    /// lines after the listener's (TLS files, `password_file`).
    public init(persistence: Bool = false, allowAnonymous: Bool = true, settings: [String] = []) throws {
        Self.sweepStrayBrokers
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mosquitto-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lastError: Error?
        for _ in 0..<5 {
            let port = LoopbackNetwork.freePort()
            do {
                try Self.writeConfig(
                    to: directory, port: port, persistence: persistence, allowAnonymous: allowAnonymous, settings: settings)
                let process = try Self.launch(directory: directory, port: port)
                self.directory = directory
                self.port = port
                self.process.withLock { $0 = process }
                return
            } catch {
                lastError = error
            }
        }
        try? FileManager.default.removeItem(at: directory)
        throw lastError ?? StartError(port: 0, log: "")
    }

    /// Kills brokers that an earlier test process started and never stopped, once per
    /// process before its first broker: `deinit` does not run when a test process crashes or
    /// is killed, and its brokers live on, reparented to PID 1. Only
    /// such orphans running a config from a `mosquitto-test-` directory are touched, so the
    /// brokers of a test run going on beside this one are left alone.
    private static let sweepStrayBrokers: Void = {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return }
        for entry in entries {
            guard let pid = Int32(entry),
                  let commandLine = try? String(contentsOfFile: "/proc/\(entry)/cmdline", encoding: .utf8),
                  commandLine.hasPrefix("/usr/sbin/mosquitto\0-c\0"), commandLine.contains("/mosquitto-test-"),
                  let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8),
                  status.split(separator: "\n").contains("PPid:\t1")
            else { continue }
            _ = Glibc.kill(pid, SIGKILL)
            let configPath = commandLine.split(separator: "\0").dropFirst(2).first.map(String.init) ?? ""
            let directory = URL(fileURLWithPath: configPath).deletingLastPathComponent()
            if directory.lastPathComponent.hasPrefix("mosquitto-test-") {
                try? FileManager.default.removeItem(at: directory)
            }
        }
    }()

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    /// `mqtt://127.0.0.1:PORT`.
    public var url: String { "mqtt://127.0.0.1:\(port)" }

    public var isRunning: Bool { process.withLock { $0?.isRunning ?? false } }

    /// The broker's log so far (`log_dest file`, which mosquitto flushes line by line).
    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("mosquitto.log"), encoding: .utf8)) ?? ""
    }

    /// SIGTERM (clean shutdown: the broker saves its database) and wait for the exit.
    public func stop() { send(SIGTERM) }

    /// SIGKILL, as a crash: no save, clients see their connections drop.
    public func kill() { send(SIGKILL) }

    /// SIGSTOP: the broker freezes with its connections open, so publishes stay unacknowledged.
    public func pause() { signalRunning(SIGSTOP) }

    /// SIGCONT after `pause()`.
    public func resume() { signalRunning(SIGCONT) }

    private func signalRunning(_ signal: Int32) {
        process.withLock { process in
            if let running = process, running.isRunning { _ = Glibc.kill(running.processIdentifier, signal) }
        }
    }

    /// Stops the broker if running and starts it again on the same port with the same
    /// config (and database, with persistence).
    public func restart() throws {
        stop()
        try start()
    }

    /// Starts the broker again after `stop()` or `kill()`.
    public func start() throws {
        let started = try Self.launch(directory: directory, port: port)
        process.withLock { $0 = started }
    }

    private func send(_ signal: Int32) {
        process.withLock { process in
            guard let running = process else { return }
            if running.isRunning {
                _ = Glibc.kill(running.processIdentifier, signal)
                running.waitUntilExit()
            }
            process = nil
        }
    }

    private static func writeConfig(
        to directory: URL, port: Int, persistence: Bool, allowAnonymous: Bool, settings: [String]
    ) throws {
        var lines = [
            "listener \(port) 127.0.0.1",
            "allow_anonymous \(allowAnonymous)",
            "max_queued_messages 0",
            "set_tcp_nodelay true",
            "log_dest file \(directory.path)/mosquitto.log",
        ] + settings
        if getuid() == 0 { lines.append("user root") }
        if persistence {
            lines += ["persistence true", "persistence_location \(directory.path)/", "autosave_interval 1"]
        }
        try (lines.joined(separator: "\n") + "\n")
            .write(to: directory.appendingPathComponent("mosquitto.conf"), atomically: true, encoding: .utf8)
    }

    private static func launch(directory: URL, port: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/mosquitto")
        process.arguments = ["-c", directory.appendingPathComponent("mosquitto.conf").path]
        let logURL = directory.appendingPathComponent("mosquitto.log")
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.runWithDefaultSignalMask()
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, process.isRunning {
            if LoopbackNetwork.isAccepting(port: port) { return process }
            usleep(20_000)
        }
        if process.isRunning {
            _ = Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        throw StartError(port: port, log: (try? String(contentsOf: logURL, encoding: .utf8)) ?? "")
    }
}
