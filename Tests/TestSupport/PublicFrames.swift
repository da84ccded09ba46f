import Foundation

/// The sample frames of `shared/protocol/frames-public.txt` (copied to `Tests/Fixtures`),
/// with the values a correct decoder reads from them.
public struct PublicFrame: Sendable, CustomStringConvertible {
    public let frame: String
    public let source: String
    public let decoded: [String: JSONValue]

    public var description: String { frame }

    public static let all: [PublicFrame] = {
        let url = fixturesDirectory.appendingPathComponent("frames-public.txt")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            fatalError("cannot read \(url.path)")
        }
        return text.split(separator: "\n").compactMap { line -> PublicFrame? in
            guard line.hasPrefix("{") else { return nil }
            guard let data = line.data(using: .utf8),
                let object = try? JSONDecoder().decode([String: JSONValue].self, from: data),
                case .string(let frame)? = object["frame"], case .string(let source)? = object["source"],
                case .object(let decoded)? = object["decoded"]
            else { fatalError("malformed fixture line: \(line)") }
            return PublicFrame(frame: frame, source: source, decoded: decoded)
        }
    }()

    /// `Tests/Fixtures`, found from this source file so tests run from any directory.
    public static let fixturesDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The package root (for `schemas/`, `scripts/` and the shared folder beside it).
    public static let packageRoot: URL = fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent()
}

/// Any JSON value, for reading fixtures and checking published payloads field by field.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var isNull: Bool { self == .null }
}
