import Foundation

/// Finds each option's value by precedence (flag, environment, config file, default) and
/// parses it, turning a bad value into a `ConfigurationError` that names its origin.
struct OptionResolver {
    let arguments: [String: [String]]
    let environment: [String: String]
    let file: ConfigFile?

    /// Where the option's value comes from.
    func origin(of option: OptionDescriptor) -> ConfigurationError.Origin {
        lookup(option).origin
    }

    func value<T>(_ option: OptionDescriptor, _ parse: (String) -> T?) throws(ConfigurationError) -> T {
        let (text, origin) = try required(option)
        return try parsed(text, option, origin, parse)
    }

    private func required(_ option: OptionDescriptor) throws(ConfigurationError) -> (String, ConfigurationError.Origin) {
        let (text, origin) = try single(option)
        guard let text = text ?? option.defaultText else {
            preconditionFailure("--\(option.name) has no default")
        }
        return (text, origin)
    }

    /// An option whose absence, or an empty value, means "unset".
    func optional<T>(_ option: OptionDescriptor, _ parse: (String) -> T?) throws(ConfigurationError) -> T? {
        let (text, origin) = try single(option)
        guard let text = text ?? option.defaultText, !text.isEmpty else { return nil }
        return try parsed(text, option, origin, parse)
    }

    /// A list option: repeated flags, or a comma-separated string or list elsewhere.
    func list<T>(_ option: OptionDescriptor, _ parse: (String) -> T?) throws(ConfigurationError) -> [T] {
        let (texts, origin) = try listTexts(option)
        var values: [T] = []
        for text in texts { values.append(try parsed(text, option, origin, parse)) }
        return values
    }

    /// A list option whose parser says why it refuses a value (see `BridgeOption.list(explaining:)`).
    func list<T, E: Error & CustomStringConvertible>(
        _ option: OptionDescriptor, explaining parse: (String) throws(E) -> T
    ) throws(ConfigurationError) -> [T] {
        let (texts, origin) = try listTexts(option)
        var values: [T] = []
        for text in texts {
            do {
                values.append(try parse(text))
            } catch {
                throw ConfigurationError(
                    option: option.name, origin: origin, reason: "\(error.description); expected \(option.allowed)")
            }
        }
        return values
    }

    private func listTexts(_ option: OptionDescriptor) throws(ConfigurationError) -> ([String], ConfigurationError.Origin) {
        let (given, origin) = lookup(option)
        let texts = given ?? Self.split(option.defaultText ?? "")
        guard !texts.isEmpty else {
            throw ConfigurationError(option: option.name, origin: origin, reason: "at least one value is needed")
        }
        return (texts, origin)
    }

    private func single(_ option: OptionDescriptor) throws(ConfigurationError) -> (String?, ConfigurationError.Origin) {
        let (texts, origin) = lookup(option)
        guard let texts else { return (nil, origin) }
        guard texts.count == 1 else {
            throw ConfigurationError(option: option.name, origin: origin, reason: "takes one value, not a list")
        }
        return (texts[0], origin)
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

    /// `"a, b,,c"` → `["a", "b", "c"]`.
    static func split(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
