/// The log line format (`--log-format`).
public enum LogFormat: String, Sendable, Equatable, CaseIterable {
    case text, json
}
