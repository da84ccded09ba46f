import Foundation

/// Runs `scripts/validate_payloads.py` (JSON Schemas of `schemas/` plus the contract's topic,
/// QoS and retain rules), the same validator CI runs on `decode` output, over JSON lines
/// `{"topic":…,"payload":…,"qos":…,"retain":…}`.
public enum PayloadValidator {
    public struct Outcome: Sendable {
        public var passed: Bool
        public var output: String
    }

    public static func validate(lines: [String], arguments: [String] = []) throws -> Outcome {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cctr-lines-\(UUID().uuidString).jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", PublicFrame.packageRoot.appendingPathComponent("scripts/validate_payloads.py").path]
            + arguments + ["--lines", file.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Outcome(passed: process.terminationStatus == 0 && text.contains("\(lines.count) passed, 0 failed"), output: text)
    }

    /// One line; `payload` is inserted as JSON when it is a JSON object, as a string otherwise.
    public static func line(topic: String, payload: [UInt8], qos: Int, retain: Bool) throws -> String {
        let payloadJSON: String
        if let object = try? JSONSerialization.jsonObject(with: Data(payload)), object is [String: Any] {
            payloadJSON = String(decoding: payload, as: UTF8.self)
        } else {
            payloadJSON = String(decoding: try JSONEncoder().encode(String(decoding: payload, as: UTF8.self)), as: UTF8.self)
        }
        let topicJSON = String(decoding: try JSONEncoder().encode(topic), as: UTF8.self)
        return "{\"topic\":\(topicJSON),\"payload\":\(payloadJSON),\"qos\":\(qos),\"retain\":\(retain)}"
    }
}
