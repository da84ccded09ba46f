import TrackerCodec
import Yams

/// The command template file (`--commands FILE`, schema `schemas/commands.schema.json`):
/// how each contract command type becomes bytes written to a tracker, and the optional
/// acknowledgements the bridge writes back for logins, heartbeats and alarms.
///
/// No GPRS downlink format of these trackers is documented, so every guessed frame is an
/// operator-editable template, and only `custom` is enabled by default
/// (`deploy/commands.default.yaml`, embedded as `defaultYAML`).
///
/// Use: load once at start-up (`CommandTemplates(yaml:)` or `.builtIn`); a bad file throws a
/// `LoadError` naming the line. `CommandRequest.parse` consults it; `acknowledgement(...)`
/// renders an ack frame for the caller to write.
///
/// The file (YAML; JSON is YAML too and loads the same way):
/// ```yaml
/// version: 1
/// commands:
///   positionPeriodic:            # a contract command type
///     - name: tk103              # label for logs and errors
///       enabled: false           # default false
///       template: "AR00{interval_hex}0000"
///       protocol: carscop        # the devices it is for: carscop (default) | h02
///       framing: carscop         # raw (default) | carscop | h02
///       reply: {word: BS08}      # optional: word, body_prefix, body_contains, failure_contains
///       max_in_flight: 1         # default 1
/// acks:                          # optional; login (UB05), heartbeat (UB00), alarm (UA01)
///   login: {enabled: false, template: "AP05", framing: carscop}
/// ```
public struct CommandTemplates: Sendable, Equatable {
    /// The variants listed per type, in file order.
    public let variants: [CommandType: [CommandTemplate]]
    /// Acknowledgement templates by the frame they answer (enabled or not).
    public let acks: [AckKind: CommandTemplate]

    /// Which device frame an acknowledgement answers.
    public enum AckKind: String, Sendable, CaseIterable {
        /// `UB05`
        case login
        /// `UB00`
        case heartbeat
        /// `UA01`
        case alarm
    }

    /// A template file problem: the 1-based line it was found on (when known) and what is wrong.
    public struct LoadError: Error, Equatable, CustomStringConvertible {
        public let line: Int?
        public let message: String

        public var description: String {
            if let line { "line \(line): \(message)" } else { message }
        }
    }

    /// The built-in templates (`defaultYAML`).
    public static let builtIn: CommandTemplates = {
        do {
            return try CommandTemplates(yaml: defaultYAML)
        } catch {
            preconditionFailure("the built-in command templates do not load: \(error)")
        }
    }()

    /// The enabled variant for `type` on devices speaking `protocolName`, or `nil` (the
    /// command cannot go to such a device).
    public func enabledTemplate(for type: CommandType, protocol protocolName: ProtocolName) -> CommandTemplate? {
        variants[type]?.first { $0.enabled && $0.protocolName == protocolName }
    }

    /// The bytes to write to a tracker in answer to `kind`, or `nil` when that
    /// acknowledgement is not enabled (the default: whether acks change anything is unknown).
    public func acknowledgement(
        _ kind: AckKind, deviceID: String, now milliseconds: Int64, timeZoneOffsetSeconds: Int
    ) -> [UInt8]? {
        guard let ack = acks[kind], ack.enabled,
            let text = try? ack.text.render([.deviceID: .value(deviceID)])
        else { return nil }
        return CommandPlan.frame(
            text, framing: ack.framing, deviceID: deviceID, milliseconds: milliseconds, offsetSeconds: timeZoneOffsetSeconds)
    }

    /// Parses and checks a template file. Every problem names its line.
    public init(yaml: String) throws(LoadError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw Self.loadError(error)
        } catch {
            throw LoadError(line: nil, message: "cannot read the file: \(error)")
        }
        guard let root, let top = root.mapping else {
            throw LoadError(line: root?.mark?.line, message: "the file must be a mapping with version and commands")
        }
        try Self.checkKeys(top, allowed: ["version", "commands", "acks"], in: "the file")
        guard let version = top["version"] else { throw LoadError(line: root.mark?.line, message: "version is missing (write version: 1)") }
        guard version.int == 1 else { throw LoadError(line: version.mark?.line, message: "version must be 1") }
        guard let commandsNode = top["commands"] else { throw LoadError(line: root.mark?.line, message: "commands is missing") }
        guard let commands = commandsNode.mapping else {
            throw LoadError(line: commandsNode.mark?.line, message: "commands must be a mapping of command type to a list of templates")
        }
        var variants: [CommandType: [CommandTemplate]] = [:]
        for (key, value) in commands {
            guard let name = key.string, let type = CommandType(rawValue: name) else {
                throw LoadError(
                    line: key.mark?.line,
                    message: "unknown command type '\(key.string ?? "?")' (known: \(CommandType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let list = value.sequence else {
                throw LoadError(line: value.mark?.line, message: "\(name) must be a list of templates (entries starting with '-')")
            }
            var parsed: [CommandTemplate] = []
            for (n, entry) in list.enumerated() {
                let template = try Self.template(entry, type: type, defaultName: "\(name)[\(n)]")
                if template.enabled, let other = parsed.first(where: { $0.enabled && $0.protocolName == template.protocolName }) {
                    throw LoadError(
                        line: entry.mark?.line,
                        message: "\(name): templates '\(other.name)' and '\(template.name)' are both enabled for \(template.protocolName) devices; enable at most one per protocol")
                }
                parsed.append(template)
            }
            variants[type] = parsed
        }
        var acks: [AckKind: CommandTemplate] = [:]
        if let acksNode = top["acks"] {
            guard let mapping = acksNode.mapping else {
                throw LoadError(line: acksNode.mark?.line, message: "acks must be a mapping of login, heartbeat, alarm")
            }
            for (key, value) in mapping {
                guard let name = key.string, let kind = AckKind(rawValue: name) else {
                    throw LoadError(line: key.mark?.line, message: "unknown ack '\(key.string ?? "?")' (known: login, heartbeat, alarm)")
                }
                acks[kind] = try Self.template(value, type: nil, defaultName: "ack \(name)")
            }
        }
        self.variants = variants
        self.acks = acks
    }

    // MARK: - Loading

    private static func template(_ node: Node, type: CommandType?, defaultName: String) throws(LoadError) -> CommandTemplate {
        let line = node.mark?.line
        guard let map = node.mapping else { throw LoadError(line: line, message: "\(defaultName) must be a mapping with template, framing, ...") }
        let keys: Set<String> =
            type == nil
            ? ["enabled", "template", "framing"] : ["name", "protocol", "enabled", "template", "framing", "reply", "max_in_flight"]
        try checkKeys(map, allowed: keys, in: defaultName)
        let name = try string(map["name"], key: "name", in: defaultName) ?? defaultName
        let label = type.map { "\($0.rawValue) template '\(name)'" } ?? name
        var enabled = false
        if let node = map["enabled"] {
            guard let value = node.bool else { throw LoadError(line: node.mark?.line, message: "\(label): enabled must be true or false") }
            enabled = value
        }
        var protocolName = ProtocolName.carscop
        if let node = map["protocol"] {
            guard let value = node.string.flatMap({ TrackerProtocols.named(ProtocolName(rawValue: $0)) }) else {
                let known = TrackerProtocols.all.map { $0.name.rawValue }.joined(separator: " or ")
                throw LoadError(line: node.mark?.line, message: "\(label): protocol must be \(known)")
            }
            protocolName = value.name
        }
        var framing = CommandTemplate.Framing.raw
        if let node = map["framing"] {
            guard let value = node.string.flatMap(CommandTemplate.Framing.init) else {
                throw LoadError(line: node.mark?.line, message: "\(label): framing must be \(CommandTemplate.Framing.names.joined(separator: ", "))")
            }
            framing = value
        }
        if case .framed(let framedAs) = framing, framedAs != protocolName {
            throw LoadError(
                line: map["framing"]?.mark?.line,
                message: "\(label): framing \(framedAs) does not fit a template for \(protocolName) devices (set protocol: \(framedAs))")
        }
        guard let textNode = map["template"], let source = textNode.scalar?.string else {
            throw LoadError(line: map["template"]?.mark?.line ?? line, message: "\(label): template is missing or not a string")
        }
        let textLine = textNode.mark?.line
        guard !source.isEmpty, source.utf8.count <= 512 else {
            throw LoadError(line: textLine, message: "\(label): template must be 1-512 characters")
        }
        let text: TemplateText
        do throws(TemplateSyntaxError) {
            text = try TemplateText(parsing: source)
        } catch {
            throw LoadError(line: textLine, message: "\(label): \(error.message)")
        }
        let allowed = Placeholder.allowed(for: type)
        if let stray = text.placeholders.subtracting(allowed).sorted(by: { $0.rawValue < $1.rawValue }).first {
            let owner = type.map { "a \($0.rawValue) command" } ?? "an acknowledgement"
            throw LoadError(line: textLine, message: "\(label): placeholder {\(stray.rawValue)} has no value for \(owner)")
        }
        if framing == .framed(.carscop), source.contains("^") {
            throw LoadError(line: textLine, message: "\(label): a carscop-framed template cannot contain '^' (it ends the frame)")
        }
        if framing == .framed(.h02), source.contains("#") {
            throw LoadError(line: textLine, message: "\(label): an h02-framed template cannot contain '#' (it ends the frame)")
        }
        var reply: ReplyPattern?
        if let node = map["reply"] {
            reply = try replyPattern(node, label: label, allowed: allowed)
        }
        var maxInFlight = 1
        if let node = map["max_in_flight"] {
            guard let value = node.int, (1...16).contains(value) else {
                throw LoadError(line: node.mark?.line, message: "\(label): max_in_flight must be an integer from 1 to 16")
            }
            maxInFlight = value
        }
        return CommandTemplate(
            name: name, protocolName: protocolName, enabled: enabled, framing: framing, reply: reply, maxInFlight: maxInFlight,
            text: text)
    }

    private static func replyPattern(_ node: Node, label: String, allowed: Set<Placeholder>) throws(LoadError) -> ReplyPattern {
        let line = node.mark?.line
        guard let map = node.mapping else { throw LoadError(line: line, message: "\(label): reply must be a mapping of word, body_prefix, body_contains") }
        try checkKeys(map, allowed: ["word", "body_prefix", "body_contains", "failure_contains"], in: "\(label) reply")
        let word = try string(map["word"], key: "reply word", in: label)
        if let word, !((1...8).contains(word.utf8.count) && word.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "^") && $0 != UInt8(ascii: ",") })) {
            throw LoadError(
                line: map["word"]?.mark?.line,
                message: "\(label): reply word must be 1-8 printable characters without , or ^, like UB04 or V4")
        }
        let prefix = try string(map["body_prefix"], key: "body_prefix", in: label)
        let contains = try string(map["body_contains"], key: "body_contains", in: label)
        let failure = try string(map["failure_contains"], key: "failure_contains", in: label)
        guard word != nil || !(prefix ?? "").isEmpty || !(contains ?? "").isEmpty else {
            throw LoadError(line: line, message: "\(label): reply needs word, body_prefix or body_contains")
        }
        let pattern: ReplyPattern
        do throws(TemplateSyntaxError) {
            pattern = try ReplyPattern(word: word, bodyPrefix: prefix, bodyContains: contains, failureContains: failure)
        } catch {
            throw LoadError(line: line, message: "\(label) reply: \(error.message)")
        }
        let used = (pattern.prefixText?.placeholders ?? []).union(pattern.containsText?.placeholders ?? [])
        if let stray = used.subtracting(allowed).sorted(by: { $0.rawValue < $1.rawValue }).first {
            throw LoadError(line: line, message: "\(label) reply: placeholder {\(stray.rawValue)} has no value for this command")
        }
        return pattern
    }

    private static func string(_ node: Node?, key: String, in label: String) throws(LoadError) -> String? {
        guard let node else { return nil }
        guard let value = node.scalar?.string, node.null == nil else {
            throw LoadError(line: node.mark?.line, message: "\(label): \(key) must be a string")
        }
        return value
    }

    private static func checkKeys(_ map: Node.Mapping, allowed: Set<String>, in label: String) throws(LoadError) {
        for key in map.keys {
            guard let name = key.string, allowed.contains(name) else {
                throw LoadError(
                    line: key.mark?.line,
                    message: "\(label): unknown key '\(key.string ?? "?")' (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
    }

    private static func loadError(_ error: YamlError) -> LoadError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return LoadError(line: mark.line, message: "syntax error: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return LoadError(line: context.mark.line, message: "duplicate key \(duplicates.joined(separator: ", "))")
        case .reader(let problem, _, _, _):
            return LoadError(line: nil, message: "not readable as UTF-8 text: \(problem)")
        default:
            return LoadError(line: nil, message: "syntax error: \(error)")
        }
    }
}
