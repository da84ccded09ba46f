/// What is said about one option of `cctr-bridge serve` whatever its value type: its name,
/// default, help and allowed values, from which its flag, environment variable and config
/// key follow. Each `BridgeOption` in `OptionTable` carries one; the flag help, the command-line
/// parser, `docs/configuration.md` and the loader all read it, so they cannot disagree.
public struct OptionDescriptor: Sendable, Equatable {
    /// The flag name without dashes, e.g. `mqtt-session-expiry`.
    public let name: String
    /// The default as the contract writes it; `nil` when the option is unset by default.
    public let defaultText: String?
    public let help: String
    public let kind: Kind

    /// How a value is written, which decides its parsing and the words in its help.
    public enum Kind: Sendable, Equatable {
        /// Free text, checked by the option's own rule (described in `allowed`).
        case text(allowed: String)
        /// A file path or text whose absence means "off"; an empty value also means unset.
        case optionalText(allowed: String)
        /// A whole number within the range.
        case integer(ClosedRange<Int>, unit: String?)
        /// On or off; a flag with `--no-` inversion on the command line.
        case flag
        /// One of the listed words.
        case choice([String])
        /// Several addresses: the flag repeats; environment and file take a comma-separated
        /// string or a list.
        case list(allowed: String)
    }

    /// `--mqtt-session-expiry`.
    public var flag: String { "--" + name }

    /// `CCTR_MQTT_SESSION_EXPIRY`.
    public var environmentVariable: String {
        "CCTR_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// `mqtt.session.expiry`.
    public var configKey: String { name.replacingOccurrences(of: "-", with: ".") }

    /// What a valid value looks like, in words, for help texts and error messages.
    public var allowed: String {
        switch kind {
        case .text(let allowed), .optionalText(let allowed), .list(let allowed):
            allowed
        case .integer(let range, let unit):
            "a whole number from \(range.lowerBound) to \(range.upperBound)" + (unit.map { " (\($0))" } ?? "")
        case .flag:
            "true or false"
        case .choice(let words):
            words.dropLast().joined(separator: ", ") + " or " + (words.last ?? "")
        }
    }

    /// The help line of the flag: meaning, allowed values, default, environment variable.
    public var flagHelp: String {
        "\(help) Allowed: \(allowed). Default: \(defaultText ?? "none"). Env: \(environmentVariable)."
    }

    public static func named(_ name: String) -> OptionDescriptor? {
        all.first { $0.name == name }
    }

    /// Every option of the contract's table, in its order, from `OptionTable`.
    public static let all: [OptionDescriptor] = OptionTable.all.map(\.descriptor)
}
