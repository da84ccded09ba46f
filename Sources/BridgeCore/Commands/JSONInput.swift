#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON value read from MQTT input (commands, forwarded commands, retained statuses),
/// keeping integers apart from fractions and booleans so range checks are exact.
/// `JSONSyntax` checks the text, Foundation's decoder builds the values; not a hot path.
enum JSONInput: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONInput])
    case object([String: JSONInput])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let v = try? c.decode(Bool.self) {
            self = .bool(v)
        } else if let v = try? c.decode(Int64.self) {
            self = .integer(v)
        } else if let v = try? c.decode(Double.self) {
            self = .number(v)
        } else if let v = try? c.decode(String.self) {
            self = .string(v)
        } else if let v = try? c.decode([JSONInput].self) {
            self = .array(v)
        } else {
            self = .object(try c.decode([String: JSONInput].self))
        }
    }

    /// Parses `bytes`; the error is a sentence for a `rejected` reason.
    static func parse(_ bytes: [UInt8]) -> Result<JSONInput, JSONInputError> {
        // Strict RFC 8259 syntax first: Foundation's decoder tolerates trailing commas and
        // cannot say where the text breaks.
        if let problem = JSONSyntax.firstError(in: bytes) {
            return .failure(JSONInputError(message: problem))
        }
        do {
            return .success(try JSONDecoder().decode(JSONInput.self, from: Data(bytes)))
        } catch {
            // Well-formed text the decoder still refuses: numbers or \u escapes out of range.
            return .failure(JSONInputError(message: "a number or \\u escape that cannot be represented"))
        }
    }

    /// A short description of the JSON type, for messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

struct JSONInputError: Error, Equatable {
    let message: String
}
