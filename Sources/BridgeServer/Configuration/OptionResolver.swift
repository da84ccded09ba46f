import Foundation

/// Finds each option's value by precedence (flag, environment, config file, default) and
/// parses it, turning a bad value into a `ConfigurationError` that names its origin.
struct OptionResolver {
    let arguments: [String: [String]]
    let environment: [String: String]
    let file: ConfigFile?
    /// Options read so far; `BridgeOptions.load` asserts it covers the whole table.
    private(set) var consumed: Set<String> = []

    init(arguments: [String: [String]], environment: [String: String], file: ConfigFile?) {
        self.arguments = arguments
        self.environment = environment
        self.file = file
    }

    /// Where the option's value comes from.
    func origin(of name: String) -> ConfigurationError.Origin {
        lookup(descriptor(name)).origin
    }

    mutating func value<T>(_ name: String, _ parse: (String) -> T?) throws(ConfigurationError) -> T {
        let (option, text, origin) = try required(name)
        return try parsed(text, option, origin, parse)
    }

    /// An option whose parser says why it refuses a value. Its reason replaces the generic
    /// "'text' is not allowed", which would repeat the text: a password inside `--mqtt-url`
    /// must never be echoed, and the parser knows which part to hide.
    mutating func value<T, E: Error & CustomStringConvertible>(
        _ name: String, explaining parse: (String) throws(E) -> T
    ) throws(ConfigurationError) -> T {
        let (option, text, origin) = try required(name)
        do {
            return try parse(text)
        } catch {
            throw ConfigurationError(option: name, origin: origin, reason: "\(error.description); expected \(option.allowed)")
        }
    }

    private mutating func required(_ name: String) throws(ConfigurationError) -> (OptionDescriptor, String, ConfigurationError.Origin) {
        let (option, texts, origin) = try single(name)
        guard let text = texts ?? option.defaultText else {
            preconditionFailure("--\(name) has no default")
        }
        return (option, text, origin)
    }

    /// An option whose absence, or an empty value, means "unset".
    mutating func optional<T>(_ name: String, _ parse: (String) -> T?) throws(ConfigurationError) -> T? {
        let (option, texts, origin) = try single(name)
        guard let text = texts ?? option.defaultText, !text.isEmpty else { return nil }
        return try parsed(text, option, origin, parse)
    }

    mutating func integer(_ name: String) throws(ConfigurationError) -> Int {
        guard case .integer(let range, _) = descriptor(name).kind else { preconditionFailure("--\(name) is not a number") }
        return try value(name) { text in Int(text).flatMap { range.contains($0) ? $0 : nil } }
    }

    mutating func flag(_ name: String) throws(ConfigurationError) -> Bool {
        try value(name) { text in
            switch text.lowercased() {
            case "true", "yes", "on", "1": true
            case "false", "no", "off", "0": false
            default: nil
            }
        }
    }

    /// A list option: repeated flags, or a comma-separated string or list elsewhere.
    mutating func list<T>(_ name: String, _ parse: (String) -> T?) throws(ConfigurationError) -> [T] {
        let option = descriptor(name)
        consumed.insert(name)
        let (given, origin) = lookup(option)
        let texts = given ?? Self.split(option.defaultText ?? "")
        guard !texts.isEmpty else {
            throw ConfigurationError(option: name, origin: origin, reason: "at least one value is needed")
        }
        var values: [T] = []
        for text in texts { values.append(try parsed(text, option, origin, parse)) }
        return values
    }

    private mutating func single(
        _ name: String
    ) throws(ConfigurationError) -> (OptionDescriptor, String?, ConfigurationError.Origin) {
        let option = descriptor(name)
        consumed.insert(name)
        let (texts, origin) = lookup(option)
        guard let texts else { return (option, nil, origin) }
        guard texts.count == 1 else {
            throw ConfigurationError(option: name, origin: origin, reason: "takes one value, not a list")
        }
        return (option, texts[0], origin)
    }

    private func parsed<T>(
        _ text: String, _ option: OptionDescriptor, _ origin: ConfigurationError.Origin, _ parse: (String) -> T?
    ) throws(ConfigurationError) -> T {
        if let value = parse(text) { return value }
        let shown = option.name.contains("password") ? "the value" : "'\(text)'"
        throw ConfigurationError(option: option.name, origin: origin, reason: "\(shown) is not allowed; expected \(option.allowed)")
    }

    /// The given texts and their origin; `nil` texts mean the default applies.
    private func lookup(_ option: OptionDescriptor) -> (texts: [String]?, origin: ConfigurationError.Origin) {
        let isList = if case .list = option.kind { true } else { false }
        if let values = arguments[option.name], !values.isEmpty {
            return (values, .flag)
        }
        if let text = environment[option.environmentVariable] {
            return (isList ? Self.split(text) : [text], .environment(variable: option.environmentVariable))
        }
        if let file, let value = file.options[option.configKey] {
            let origin = ConfigurationError.Origin.file(path: file.path, key: option.configKey)
            switch value {
            case .scalar(let text): return (isList ? Self.split(text) : [text], origin)
            case .list(let texts): return (texts, origin)
            }
        }
        return (nil, .defaultValue)
    }

    private func descriptor(_ name: String) -> OptionDescriptor {
        guard let option = OptionDescriptor.named(name) else { preconditionFailure("--\(name) is not in the table") }
        return option
    }

    /// `"a, b,,c"` → `["a", "b", "c"]`.
    static func split(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
