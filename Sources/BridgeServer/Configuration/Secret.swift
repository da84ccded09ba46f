/// A value that must never reach a log, a dump or `--print-config` (the MQTT password).
/// Its description, debug description and reflection all show `<redacted>`; only `value`
/// gives the text, for the one place that hands it to the broker client.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
