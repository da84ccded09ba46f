import Foundation

/// The real H02 captures of `Tests/Fixtures/h02-captures.txt` (public decoders' test suites
/// and the protocol note), with what the bridge must make of each and, for many, the values.
public struct H02Capture: Sendable, CustomStringConvertible {
    public enum Expect: String, Sendable {
        case position, event, heartbeat, reply, skip
    }

    public let expect: Expect
    public let bytes: [UInt8]
    public let isBinary: Bool
    public let values: [String: String]

    public var description: String {
        isBinary ? bytes.map { String(format: "%02x", $0) }.joined() : String(decoding: bytes, as: UTF8.self)
    }

    public static let all: [H02Capture] = {
        let url = PublicFrame.fixturesDirectory.appendingPathComponent("h02-captures.txt")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { fatalError("cannot read \(url.path)") }
        return text.split(separator: "\n").compactMap { line -> H02Capture? in
            guard !line.hasPrefix("#"), !line.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3, let expect = Expect(rawValue: fields[0]) else { fatalError("malformed capture line: \(line)") }
            var values: [String: String] = [:]
            for pair in fields.dropFirst(3) {
                guard let eq = pair.firstIndex(of: "=") else { continue }
                values[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
            }
            let isBinary = fields[1] == "hex"
            return H02Capture(expect: expect, bytes: isBinary ? hex(fields[2]) : Array(fields[2].utf8), isBinary: isBinary, values: values)
        }
    }()

    public static func hex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var chars = Substring(text)
        while chars.count >= 2 {
            out.append(UInt8(chars.prefix(2), radix: 16)!)
            chars = chars.dropFirst(2)
        }
        return out
    }
}
