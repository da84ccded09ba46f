/// One option of `cctr-bridge serve`, declared once in `OptionTable`: its descriptor (flag
/// name, default, help, allowed values) together with how its text becomes the typed value
/// that `BridgeOptions` holds and how that value is printed back into a config file. The
/// flag, the environment variable, the config key, `--help`, `--print-config` and
/// docs/configuration.md are all derived from it, so adding an option is one declaration.
public struct BridgeOption<Value: Sendable & Equatable>: Sendable {
    public let descriptor: OptionDescriptor
    /// Finds the value by precedence and parses it; a bad value is an error naming its origin.
    let read: @Sendable (OptionResolver, OptionDescriptor) throws(ConfigurationError) -> Value
    /// The value as the config file holds it (`--print-config`); `nil` is printed as `null`.
    let format: @Sendable (Value) -> (any Sendable)?

    /// A value parsed from one text; `print` writes it back in the form `parse` reads, and
    /// `format`, when given, is the config file's typed form (a JSON number or boolean).
    static func parsed(
        _ name: String, default: Value, _ kind: OptionDescriptor.Kind, help: String,
        parse: @escaping @Sendable (String) -> Value?, print: @escaping @Sendable (Value) -> String,
        format: (@Sendable (Value) -> any Sendable)? = nil
    ) -> BridgeOption {
        BridgeOption(
            descriptor: OptionDescriptor(name: name, defaultText: print(`default`), help: help, kind: kind),
            read: { (r, option) throws(ConfigurationError) in try r.value(option, parse) },
            format: format ?? { print($0) })
    }
}

extension BridgeOption where Value == String {
    /// Text checked by `isValid`, described by `allowed`.
    static func text(
        _ name: String, default: String, allowed: String, help: String,
        isValid: @escaping @Sendable (String) -> Bool
    ) -> BridgeOption {
        parsed(name, default: `default`, .text(allowed: allowed), help: help, parse: { isValid($0) ? $0 : nil }, print: { $0 })
    }
}

extension BridgeOption where Value == String? {
    /// A path or text whose absence, or an empty value, means "off".
    static func optional(
        _ name: String, allowed: String, help: String, isValid: @escaping @Sendable (String) -> Bool = { _ in true }
    ) -> BridgeOption {
        BridgeOption(
            descriptor: OptionDescriptor(name: name, defaultText: nil, help: help, kind: .optionalText(allowed: allowed)),
            read: { (r, option) throws(ConfigurationError) in try r.optional(option) { isValid($0) ? $0 : nil } },
            format: { $0 })
    }
}

extension BridgeOption where Value == Int {
    /// A whole number within `range`.
    static func integer(_ name: String, default: Int, _ range: ClosedRange<Int>, unit: String? = nil, help: String) -> BridgeOption {
        parsed(
            name, default: `default`, .integer(range, unit: unit), help: help,
            parse: { Int($0).flatMap { range.contains($0) ? $0 : nil } }, print: { String($0) }, format: { $0 })
    }
}

extension BridgeOption where Value == Duration {
    /// A time written as whole seconds, the unit the contract gives the flag.
    static func seconds(
        _ name: String, default: Int, _ range: ClosedRange<Int>, unit: String = "seconds", help: String
    ) -> BridgeOption {
        duration(name, default: `default`, range, unit: unit, help: help, scale: .seconds(1))
    }

    /// A time written as whole milliseconds, the unit the contract gives the flag.
    static func milliseconds(_ name: String, default: Int, _ range: ClosedRange<Int>, help: String) -> BridgeOption {
        duration(name, default: `default`, range, unit: "milliseconds", help: help, scale: .milliseconds(1))
    }

    private static func duration(
        _ name: String, default: Int, _ range: ClosedRange<Int>, unit: String, help: String, scale: Duration
    ) -> BridgeOption {
        BridgeOption(
            descriptor: OptionDescriptor(
                name: name, defaultText: String(`default`), help: help, kind: .integer(range, unit: unit)),
            read: { (r, option) throws(ConfigurationError) in
                try r.value(option) { Int($0).flatMap { range.contains($0) ? scale * $0 : nil } }
            },
            format: { Int($0 / scale) })
    }
}

extension BridgeOption where Value == Bool {
    /// Off by default; `--flag` / `--no-flag` on the command line, `true`/`false` elsewhere.
    static func flag(_ name: String, help: String) -> BridgeOption {
        parsed(
            name, default: false, .flag, help: help,
            parse: { text in
                switch text.lowercased() {
                case "true", "yes", "on", "1": true
                case "false", "no", "off", "0": false
                default: nil
                }
            },
            print: { String($0) }, format: { $0 })
    }
}

extension BridgeOption where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
    /// One of the enumeration's raw values, listed in its declaration order.
    static func choice(_ name: String, default: Value, help: String) -> BridgeOption {
        parsed(
            name, default: `default`, .choice(Value.allCases.map(\.rawValue)), help: help,
            parse: { Value(rawValue: $0) }, print: { $0.rawValue })
    }
}

extension BridgeOption {
    /// Several values: the flag repeats; environment and file take a comma-separated string
    /// or a list. At least one value is needed.
    static func list<Element: Sendable & Equatable>(
        _ name: String, default: [Element], allowed: String, help: String,
        parse: @escaping @Sendable (String) -> Element?, print: @escaping @Sendable (Element) -> String
    ) -> BridgeOption where Value == [Element] {
        BridgeOption(
            descriptor: OptionDescriptor(
                name: name, defaultText: `default`.map(print).joined(separator: ","), help: help,
                kind: .list(allowed: allowed)),
            read: { (r, option) throws(ConfigurationError) in try r.list(option, parse) },
            format: { $0.map(print) })
    }
}

extension BridgeOption {
    /// A list whose parser says why it refuses a value; its reason replaces the generic
    /// "'text' is not allowed", which would repeat the text (a password inside `--mqtt-url`
    /// must never be echoed, and the parser knows which part to hide).
    static func list<Element: Sendable & Equatable, E: Error & CustomStringConvertible>(
        _ name: String, default: [Element], allowed: String, help: String,
        explaining parse: @escaping @Sendable (String) throws(E) -> Element, print: @escaping @Sendable (Element) -> String
    ) -> BridgeOption where Value == [Element] {
        BridgeOption(
            descriptor: OptionDescriptor(
                name: name, defaultText: `default`.map(print).joined(separator: ","), help: help,
                kind: .list(allowed: allowed)),
            read: { (r, option) throws(ConfigurationError) in try r.list(option, explaining: parse) },
            format: { $0.map(print) })
    }
}

/// What `BridgeOptions` needs of an option whatever its value type, so that loading,
/// comparing and printing walk the table instead of naming each option.
protocol TableOption: Sendable {
    var descriptor: OptionDescriptor { get }
    func resolve(_ resolver: OptionResolver, into options: inout BridgeOptions) throws(ConfigurationError)
    func isEqual(_ a: BridgeOptions, _ b: BridgeOptions) -> Bool
    func printed(_ options: BridgeOptions) -> (any Sendable)?
}

extension BridgeOption: TableOption {
    func resolve(_ resolver: OptionResolver, into options: inout BridgeOptions) throws(ConfigurationError) {
        options[self] = try read(resolver, descriptor)
    }

    func isEqual(_ a: BridgeOptions, _ b: BridgeOptions) -> Bool {
        a[self] == b[self]
    }

    func printed(_ options: BridgeOptions) -> (any Sendable)? {
        format(options[self])
    }
}
