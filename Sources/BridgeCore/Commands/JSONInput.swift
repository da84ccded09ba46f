#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON value read from MQTT input (commands, forwarded commands, retained statuses),
/// keeping integers apart from fractions and booleans so range checks are exact.
/// Foundation's decoder does the parsing; this is not on a hot path.
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
        do {
            return .success(try JSONDecoder().decode(JSONInput.self, from: Data(bytes)))
        } catch let DecodingError.dataCorrupted(context) {
            let detail = context.underlyingError.map { "\($0)" } ?? context.debugDescription
            return .failure(JSONInputError(message: detail))
        } catch {
            return .failure(JSONInputError(message: "\(error)"))
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
