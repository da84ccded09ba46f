/// The options of a `serve` or `forget` command line, read against the option table: the
/// table knows which options take a value, repeat or are on/off, so the command-line parser
/// needs no declaration of its own per option.
public struct CommandLineOptions: Equatable, Sendable {
    /// Values by option name, in the form `BridgeOptions.load(arguments:...)` takes.
    public var arguments: [String: [String]] = [:]
    /// Words that are not options or their values (the device id of `forget`).
    public var positionals: [String] = []

    /// Reads `--name value`, `--name=value`, `--flag` / `--no-flag`, and a repeated list
    /// option; any other single-value option given twice keeps the last value. Everything
    /// after `--` is positional.
    public static func parse(_ words: [String]) throws(ConfigurationError) -> CommandLineOptions {
        var result = CommandLineOptions()
        var rest = words[...]
        while let word = rest.popFirst() {
            guard word.hasPrefix("-"), word != "-" else {
                result.positionals.append(word)
                continue
            }
            if word == "--" {
                result.positionals += rest
                break
            }
            let body = word.drop { $0 == "-" }
            let name = String(body.prefix { $0 != "=" })
            let attached = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
            if let option = OptionDescriptor.named(name) {
                let value: String
                if case .flag = option.kind {
                    guard attached == nil else {
                        throw ConfigurationError(option: name, origin: .flag, reason: "takes no value: use --\(name) or --no-\(name)")
                    }
                    value = "true"
                } else if let attached {
                    value = attached
                } else if let next = rest.popFirst() {
                    value = next
                } else {
                    throw ConfigurationError(option: name, origin: .flag, reason: "needs a value: \(option.allowed)")
                }
                if case .list = option.kind {
                    result.arguments[name, default: []].append(value)
                } else {
                    result.arguments[name] = [value]
                }
            } else if name.hasPrefix("no-"), attached == nil, let option = OptionDescriptor.named(String(name.dropFirst(3))),
                case .flag = option.kind
            {
                result.arguments[option.name] = ["false"]
            } else {
                throw ConfigurationError(option: name, origin: .flag, reason: "not an option")
            }
        }
        return result
    }
}
