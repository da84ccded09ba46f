import Foundation

/// A mosquitto password file with one user, made with `mosquitto_passwd`, for a broker
/// started with `settings: ["password_file \(file.path)"]`. Removed in `deinit`.
public final class PasswordFile: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let path: String

    public init(user: String, password: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("cctr-passwd-\(UUID().uuidString)").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_passwd")
        process.arguments = ["-b", "-c", path, user, password]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "mosquitto_passwd exited with \(process.terminationStatus)")
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
