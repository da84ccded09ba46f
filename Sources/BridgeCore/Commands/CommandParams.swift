/// The parameters of a command as the controller gave them (`params`), each checked
/// against the contract's ranges and against the characters that would break a frame or
/// an SMS-dialect field (`*` `^` `#` `,`). Absent parameters are `nil`.
public struct CommandParams: Sendable, Equatable {
    /// `custom`: 1-512 characters 0x20-0x7E except `^`.
    public var data: String?
    /// `positionPeriodic`: 10-86400.
    public var intervalS: Int?
    /// `setTimezone`: `±HH:MM`, -14:00 to +14:00.
    public var offset: String?
    /// `sosNumber`: 1-3.
    public var index: Int?
    /// `sosNumber`: `+` and 3-20 digits.
    public var phone: String?
    /// `setApn`.
    public var apn: String?
    /// `setApn`, optional.
    public var user: String?
    /// `setApn`'s optional APN password (`{apn_password}` in templates).
    public var password: String?
    /// `setServer`: a host name or IPv4 address.
    public var host: String?
    /// `setServer`: 1-65535.
    public var port: Int?
    /// Given in the command; `nil` means the policy's default for the device.
    public var devicePassword: String?

    public init(
        data: String? = nil, intervalS: Int? = nil, offset: String? = nil, index: Int? = nil, phone: String? = nil,
        apn: String? = nil, user: String? = nil, password: String? = nil, host: String? = nil, port: Int? = nil,
        devicePassword: String? = nil
    ) {
        self.data = data
        self.intervalS = intervalS
        self.offset = offset
        self.index = index
        self.phone = phone
        self.apn = apn
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.devicePassword = devicePassword
    }

    struct Invalid: Error, Equatable {
        let message: String
        init(_ message: String) { self.message = message }
    }

    static func validate(_ object: [String: JSONInput], for type: CommandType) -> Result<CommandParams, Invalid> {
        let accepted = type.parameters
        let names = Set(accepted.map(\.name)).union(["device_password"])
        if let unknown = object.keys.sorted().first(where: { !names.contains($0) }) {
            return .failure(Invalid("unknown parameter \(unknown) for \(type.rawValue) (accepted: \(names.sorted().joined(separator: ", ")))"))
        }
        if let missing = accepted.first(where: { $0.required && object[$0.name] == nil }) {
            return .failure(Invalid("missing parameter \(missing.name) for \(type.rawValue)"))
        }
        var p = CommandParams()
        do throws(Invalid) {
            for (name, value) in object {
                switch name {
                case "data": p.data = try customData(value)
                case "interval_s": p.intervalS = try integer(value, name, 10...86_400)
                case "offset": p.offset = try offset(value)
                case "index": p.index = try integer(value, name, 1...3)
                case "phone": p.phone = try phone(value)
                case "apn", "user", "password":
                    let v = try field(value, name, maxLength: 64)
                    switch name {
                    case "apn": p.apn = v
                    case "user": p.user = v
                    default: p.password = v
                    }
                case "host": p.host = try host(value)
                case "port": p.port = try integer(value, name, 1...65_535)
                default: p.devicePassword = try field(value, name, maxLength: 32)
                }
            }
        } catch {
            return .failure(error)
        }
        return .success(p)
    }

    func placeholderValues(deviceID: String, devicePassword: String) -> PlaceholderValues {
        var v: PlaceholderValues = [.deviceID: .value(deviceID), .password: .value(devicePassword)]
        v[.data] = data.map(PlaceholderValue.value)
        if let intervalS {
            v[.intervalS] = .value(String(intervalS))
            v[.intervalHex] = intervalS <= 0xFFFF
                ? .value(Self.hex(UInt32(intervalS), width: 4))
                : .unavailable("interval_s \(intervalS) does not fit {interval_hex} (4 hex digits, at most 65535)")
        }
        v[.offset] = offset.map(PlaceholderValue.value)
        v[.index] = index.map { .value(String($0)) }
        v[.phone] = phone.map(PlaceholderValue.value)
        v[.apn] = apn.map(PlaceholderValue.value)
        v[.user] = user.map(PlaceholderValue.value)
        v[.apnPassword] = password.map(PlaceholderValue.value)
        v[.host] = host.map(PlaceholderValue.value)
        v[.port] = port.map { .value(String($0)) }
        return v
    }

    // MARK: - Rules

    /// Upper-case hexadecimal, zero-padded to `width` digits.
    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private static func string(_ value: JSONInput, _ name: String) throws(Invalid) -> String {
        guard case .string(let s) = value else { throw Invalid("\(name) must be a string, not \(value.typeName)") }
        return s
    }

    private static func integer(_ value: JSONInput, _ name: String, _ range: ClosedRange<Int>) throws(Invalid) -> Int {
        let i: Int64
        switch value {
        case .integer(let v): i = v
        case .number(let d) where d.rounded() == d:
            throw Invalid("\(name) is out of range \(range.lowerBound)-\(range.upperBound)")
        case .number:
            throw Invalid("\(name) must be an integer, not a fraction")
        default:
            throw Invalid("\(name) must be an integer, not \(value.typeName)")
        }
        guard i >= Int64(range.lowerBound), i <= Int64(range.upperBound) else {
            throw Invalid("\(name) \(i) is out of range \(range.lowerBound)-\(range.upperBound)")
        }
        return Int(i)
    }

    /// Names a character for a message: `'*'`, or `U+0007` when it is not printable.
    private static func describe(_ c: Unicode.Scalar) -> String {
        c.value >= 0x20 && c.value <= 0x7E ? "'\(c)'" : "U+" + hex(c.value, width: 4)
    }

    private static func customData(_ value: JSONInput) throws(Invalid) -> String {
        let s = try string(value, "data")
        let count = s.unicodeScalars.count
        guard count >= 1 else { throw Invalid("data is empty (1-512 characters)") }
        guard count <= 512 else { throw Invalid("oversize: data has \(count) characters, at most 512") }
        for c in s.unicodeScalars {
            if c == "^" { throw Invalid("forbidden character '^' in data (it ends a frame)") }
            guard c.value >= 0x20 && c.value <= 0x7E else {
                throw Invalid("forbidden character \(describe(c)) in data (only printable ASCII 0x20-0x7E)")
            }
        }
        return s
    }

    /// apn, user, password, device_password: printable ASCII without spaces or the SMS
    /// dialect's separators.
    private static func field(_ value: JSONInput, _ name: String, maxLength: Int) throws(Invalid) -> String {
        let s = try string(value, name)
        let count = s.unicodeScalars.count
        guard count >= 1 else { throw Invalid("\(name) is empty (1-\(maxLength) characters)") }
        guard count <= maxLength else { throw Invalid("oversize: \(name) has \(count) characters, at most \(maxLength)") }
        for c in s.unicodeScalars {
            if "*^#,".unicodeScalars.contains(c) {
                throw Invalid("forbidden character \(describe(c)) in \(name) (it separates fields or ends the frame)")
            }
            guard c.value > 0x20 && c.value <= 0x7E else {
                throw Invalid("forbidden character \(describe(c)) in \(name) (only printable ASCII without spaces)")
            }
        }
        return s
    }

    private static func offset(_ value: JSONInput) throws(Invalid) -> String {
        let s = try string(value, "offset")
        let b = Array(s.utf8)
        guard b.count == 6, b[3] == UInt8(ascii: ":"), let seconds = DeviceSettings.parseOffset(s), abs(seconds) <= 14 * 3600 else {
            throw Invalid("offset must be ±HH:MM from -14:00 to +14:00, not \(s)")
        }
        return s
    }

    private static func phone(_ value: JSONInput) throws(Invalid) -> String {
        let s = try string(value, "phone")
        let digits = s.hasPrefix("+") ? s.utf8.dropFirst() : s.utf8[...]
        guard (3...20).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw Invalid("phone must be an optional '+' and 3-20 digits")
        }
        return s
    }

    private static func host(_ value: JSONInput) throws(Invalid) -> String {
        let s = try string(value, "host")
        let b = Array(s.utf8)
        guard (1...253).contains(b.count) else { throw Invalid("host must be 1-253 characters") }
        for c in s.unicodeScalars {
            let ok = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "." || c == "-"
            guard ok else { throw Invalid("forbidden character \(describe(c)) in host (a host name or IPv4 address)") }
        }
        guard b.first != UInt8(ascii: "."), b.first != UInt8(ascii: "-"), b.last != UInt8(ascii: "."), b.last != UInt8(ascii: "-") else {
            throw Invalid("host must start and end with a letter or digit")
        }
        return s
    }
}
