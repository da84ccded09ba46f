import TrackerCodec

/// The text of a command template, parsed once at load time into literal runs,
/// placeholders (`{name}`) and optional sections (`{#name}…{/name}`, kept only when the
/// command has that optional parameter). `{{` and `}}` are literal braces.
///
/// Rendering substitutes every value except `{header}`, whose value depends on the moment
/// the frame is written; it stays a slot in the rendered `FrameText`.
struct TemplateText: Sendable, Equatable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case placeholder(Placeholder)
        case section(Placeholder, [Segment])
    }

    let segments: [Segment]

    /// The placeholders used anywhere, sections included.
    var placeholders: Set<Placeholder> {
        var found = Set<Placeholder>()
        func visit(_ segments: [Segment]) {
            for segment in segments {
                switch segment {
                case .literal: break
                case .placeholder(let p): found.insert(p)
                case .section(let p, let inner):
                    found.insert(p)
                    visit(inner)
                }
            }
        }
        visit(segments)
        return found
    }

    /// Parses the template syntax; the error is a sentence naming the problem.
    init(parsing text: String) throws(TemplateSyntaxError) {
        var scalars = Array(text.unicodeScalars)[...]
        var stack: [(Placeholder, [Segment])] = []
        var current: [Segment] = []
        var literal = ""
        func flush() {
            if !literal.isEmpty {
                current.append(.literal(literal))
                literal = ""
            }
        }
        while let c = scalars.popFirst() {
            switch c {
            case "{" where scalars.first == "{":
                scalars.removeFirst()
                literal.unicodeScalars.append("{")
            case "}" where scalars.first == "}":
                scalars.removeFirst()
                literal.unicodeScalars.append("}")
            case "}":
                throw TemplateSyntaxError("a lone '}' (write '}}' for a literal brace)")
            case "{":
                guard let close = scalars.firstIndex(of: "}") else {
                    throw TemplateSyntaxError("a '{' without its '}' (write '{{' for a literal brace)")
                }
                var name = String(String.UnicodeScalarView(scalars[..<close]))
                scalars = scalars[(close + 1)...]
                flush()
                if name.hasPrefix("#") {
                    name.removeFirst()
                    guard let p = Placeholder(rawValue: name) else { throw TemplateSyntaxError("unknown section {#\(name)}") }
                    guard p.isOptionalParameter else {
                        throw TemplateSyntaxError("section {#\(name)} is not an optional parameter (only user and apn_password are)")
                    }
                    guard stack.isEmpty else { throw TemplateSyntaxError("sections cannot be nested ({#\(name)})") }
                    stack.append((p, current))
                    current = []
                } else if name.hasPrefix("/") {
                    name.removeFirst()
                    guard let section = stack.popLast(), section.0.rawValue == name else {
                        throw TemplateSyntaxError("{/\(name)} closes no open section")
                    }
                    let inner = current
                    current = section.1
                    current.append(.section(section.0, inner))
                } else {
                    guard let p = Placeholder(rawValue: name) else {
                        throw TemplateSyntaxError("unknown placeholder {\(name)}")
                    }
                    current.append(.placeholder(p))
                }
            default:
                guard c.value >= 0x20 && c.value <= 0x7E || c == "\r" || c == "\n" || c == "\t" else {
                    throw TemplateSyntaxError(
                        "character U+\(String(c.value, radix: 16, uppercase: true)) is not printable ASCII (or CR, LF, TAB)")
                }
                literal.unicodeScalars.append(c)
            }
        }
        if let open = stack.last?.0 { throw TemplateSyntaxError("section {#\(open.rawValue)} is never closed") }
        flush()
        segments = current
    }

    /// Substitutes `values`; a placeholder without a value outside a section is an error
    /// naming it (as the contract's parameter name).
    func render(_ values: PlaceholderValues) throws(RenderError) -> FrameText {
        var parts: [FrameText.Part] = []
        func emit(_ segments: [Segment]) throws(RenderError) {
            for segment in segments {
                switch segment {
                case .literal(let text):
                    parts.append(.text(text))
                case .placeholder(.header):
                    parts.append(.header)
                case .placeholder(let p):
                    switch values[p] {
                    case .value(let v): parts.append(.text(v))
                    case .unavailable(let why): throw RenderError(why)
                    case nil: throw RenderError("the template needs \(p.parameterName), which the command does not give")
                    }
                case .section(let p, let inner):
                    if values[p] != nil { try emit(inner) }
                }
            }
        }
        try emit(segments)
        return FrameText(parts: parts)
    }

    struct RenderError: Error, Equatable {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}

/// A template syntax problem, in words.
struct TemplateSyntaxError: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The placeholders a template may use (`{name}`).
enum Placeholder: String, Sendable, CaseIterable, Hashable {
    case password, deviceID = "device_id", header, data
    case intervalS = "interval_s", intervalHex = "interval_hex"
    case offset, index, phone, apn, user
    case apnPassword = "apn_password"
    case host, port

    /// The command parameter that supplies it, for messages (`apn_password` is setApn's `password`).
    var parameterName: String {
        self == .apnPassword ? "password" : rawValue
    }

    var isOptionalParameter: Bool { self == .user || self == .apnPassword }

    /// Which placeholders a template for `type` may use; `nil` = an acknowledgement template.
    static func allowed(for type: CommandType?) -> Set<Placeholder> {
        guard let type else { return [.header, .deviceID] }
        let common: Set<Placeholder> = [.header, .deviceID, .password]
        switch type {
        case .custom: return common.union([.data])
        case .positionSingle, .engineStop, .engineResume, .rebootDevice, .alarmArm, .alarmDisarm: return common
        case .positionPeriodic: return common.union([.intervalS, .intervalHex])
        case .setTimezone: return common.union([.offset])
        case .sosNumber: return common.union([.index, .phone])
        case .setApn: return common.union([.apn, .user, .apnPassword])
        case .setServer: return common.union([.host, .port])
        }
    }
}

/// The value of each placeholder for one command; `unavailable` carries why a value cannot
/// be written (e.g. an interval too large for `{interval_hex}`).
typealias PlaceholderValues = [Placeholder: PlaceholderValue]

enum PlaceholderValue: Sendable, Equatable {
    case value(String)
    case unavailable(String)
}

/// A rendered template: text with `{header}` slots still open, because the header is the
/// time the frame is written, in the device's time zone.
public struct FrameText: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case text(String)
        case header
    }

    let parts: [Part]

    /// The text with every header slot filled with `header`.
    func text(header: String) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let t): out += t
            case .header: out += header
            }
        }
        return out
    }

    /// `yymmddhhmmss` of `milliseconds` (Unix epoch) in a zone `offsetSeconds` east of UTC.
    static func header(milliseconds: Int64, offsetSeconds: Int) -> String {
        let seconds = (milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000) + Int64(offsetSeconds)
        return CivilDateTime(secondsSinceEpoch: seconds).compactDigits(yearDigits: 2)
    }
}
