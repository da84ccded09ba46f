/// A configuration the bridge refuses to start with. It names the option, where the value
/// came from and what is allowed, so an operator can fix the right place.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// The option's flag name (`mqtt-session-expiry`), `devices.<id>.<key>`, or `nil` for an
    /// error about the config file as a whole.
    public let option: String?
    public let origin: Origin
    public let reason: String

    /// Where a value came from.
    public enum Origin: Sendable, Equatable, CustomStringConvertible {
        case flag
        case environment(variable: String)
        case file(path: String, key: String?)
        case defaultValue

        public var description: String {
            switch self {
            case .flag: "command line"
            case .environment(let variable): "environment variable \(variable)"
            case .file(let path, let key): "config file \(path)" + (key.map { ", key \($0)" } ?? "")
            case .defaultValue: "built-in default"
            }
        }
    }

    public init(option: String?, origin: Origin, reason: String) {
        self.option = option
        self.origin = origin
        self.reason = reason
    }

    public var description: String {
        let subject = option.map { $0.hasPrefix("devices.") ? $0 : "--" + $0 } ?? "configuration"
        return "invalid \(subject) (from \(origin)): \(reason)"
    }
}
