import Foundation

/// Runs the repository's Python checks from tests: `scripts/validate_payloads.py` (schemas
/// and topic rules) and Jinja2 rendering of Home Assistant templates.
public enum PayloadScripts {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var errors: String
    }

    /// Validates `{"topic","payload","qos","retain"}` lines; `arguments` adds options such as
    /// `--owntracks-base`.
    public static func validate(lines: [String], arguments: [String] = []) throws -> Result {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cctr-lines-\(UUID().uuidString).jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = PublicFrame.packageRoot.appendingPathComponent("scripts/validate_payloads.py").path
        return try python([script, "--lines", file.path] + arguments, input: nil)
    }

    /// True when every line passed (the script exited 0 and counted all of them).
    public static func allPassed(_ result: Result, lines: Int) -> Bool {
        result.status == 0 && result.output.contains("\(lines) passed, 0 failed")
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

    /// Validates whole documents against `schemas/<schema>.schema.json` (the status API's
    /// answers), with date-time formats checked; the output names each failure.
    public static func validate(documents: [(schema: String, json: [UInt8])]) throws -> Result {
        let program = """
            import json, pathlib, sys
            from jsonschema import Draft202012Validator
            root = pathlib.Path(sys.argv[1])
            failed = 0
            for case in json.load(sys.stdin):
                schema = json.loads((root / (case["schema"] + ".schema.json")).read_text())
                validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
                for error in validator.iter_errors(json.loads(case["json"])):
                    failed += 1
                    print(case["schema"], "/".join(map(str, error.absolute_path)), error.message)
            print(f"{failed} failed")
            sys.exit(1 if failed else 0)
            """
        let cases = documents.map { ["schema": $0.schema, "json": String(decoding: $0.json, as: UTF8.self)] }
        let input = try JSONSerialization.data(withJSONObject: cases)
        let schemas = PublicFrame.packageRoot.appendingPathComponent("schemas").path
        return try python(["-c", program, schemas], input: input)
    }

    /// Renders Jinja2 templates the way Home Assistant's MQTT integration does for incoming
    /// payloads: `value` is the payload text, `value_json` the parsed payload, `this` the
    /// entity's current state object (`state`, `attributes`). Each case is
    /// `{"template", "payload", "this"}`; returns the rendered strings in order.
    public static func renderTemplates(_ cases: [[String: Any]]) throws -> [String] {
        let program = """
            import json, sys
            from jinja2.sandbox import ImmutableSandboxedEnvironment
            env = ImmutableSandboxedEnvironment()
            out = []
            for case in json.load(sys.stdin):
                value = case["payload"]
                out.append(env.from_string(case["template"]).render(value=value, value_json=json.loads(value), this=case["this"]))
            json.dump(out, sys.stdout)
            """
        let input = try JSONSerialization.data(withJSONObject: cases)
        let result = try python(["-c", program], input: input)
        guard result.status == 0, let rendered = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String] else {
            throw RenderError(description: "template rendering failed: \(result.output)\(result.errors)")
        }
        return rendered
    }

    public struct RenderError: Error, CustomStringConvertible {
        public let description: String
    }

    private static func python(_ arguments: [String], input: Data?) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try stdin.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: text, errors: errorText)
    }
}
