/// A broker address as operators write it: `mqtt://[user@]host:port` or `mqtts://[user@]host:port`.
///
/// The password is deliberately not part of the URL (it would end up in shell history, process
/// listings and logs); a URL carrying `user:password@` is rejected. `description` therefore can
/// never print a secret.
public struct MQTTURL: Sendable, Hashable, CustomStringConvertible {
    /// Why a string is not a broker URL. The message never repeats a password.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public let description: String
    }

    /// `true` for `mqtts://`: TLS on, default port 8883.
    public let usesTLS: Bool
    public let username: String?
    /// Host name or IP address; IPv6 literals without brackets (`::1`).
    public let host: String
    public let port: Int

    public init(usesTLS: Bool = false, username: String? = nil, host: String, port: Int? = nil) {
        self.usesTLS = usesTLS
        self.username = username
        self.host = host
        self.port = port ?? (usesTLS ? 8883 : 1883)
    }

    public init(_ string: String) throws(ParseError) {
        let tls: Bool
        let rest: Substring
        if string.hasPrefix("mqtt://") {
            tls = false
            rest = string.dropFirst("mqtt://".count)
        } else if string.hasPrefix("mqtts://") {
            tls = true
            rest = string.dropFirst("mqtts://".count)
        } else {
            throw ParseError(description: "MQTT URL must start with mqtt:// or mqtts:// (got \(Self.redacted(string)))")
        }
        var authority = rest
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        guard !authority.contains("/"), !authority.contains("?"), !authority.contains("#") else {
            throw ParseError(description: "MQTT URL must be scheme://[user@]host[:port] without a path (got \(Self.redacted(string)))")
        }
        var username: String?
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            guard !userInfo.contains(":") else {
                throw ParseError(description: "MQTT URL must not contain a password; pass it separately (got \(Self.redacted(string)))")
            }
            guard !userInfo.isEmpty else {
                throw ParseError(description: "MQTT URL has an empty user name before '@'")
            }
            username = String(userInfo)
            authority = authority[authority.index(after: at)...]
        }
        let host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw ParseError(description: "MQTT URL has an unterminated IPv6 address: \(Self.redacted(string))")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else {
                    throw ParseError(description: "MQTT URL has unexpected text after the IPv6 address: \(Self.redacted(string))")
                }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
            guard !(portText?.contains(":") ?? false) else {
                throw ParseError(description: "IPv6 addresses in an MQTT URL need brackets, e.g. mqtt://[::1]:1883")
            }
        } else {
            host = authority
        }
        guard !host.isEmpty else {
            throw ParseError(description: "MQTT URL has no host: \(Self.redacted(string))")
        }
        var port: Int?
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw ParseError(description: "MQTT URL port must be 1-65535 (got \"\(portText)\")")
            }
            port = value
        }
        self.init(usesTLS: tls, username: username, host: String(host), port: port)
    }

    public var description: String {
        let user = username.map { "\($0)@" } ?? ""
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(usesTLS ? "mqtts" : "mqtt")://\(user)\(hostPart):\(port)"
    }

    /// Hides anything between `://` and `@` so an error message cannot echo a password.
    private static func redacted(_ string: String) -> String {
        guard let schemeEnd = string.range(of: "://"),
              let at = string[schemeEnd.upperBound...].lastIndex(of: "@")
        else { return "\"\(string)\"" }
        return "\"\(string[..<schemeEnd.upperBound])***\(string[at...])\""
    }
}
