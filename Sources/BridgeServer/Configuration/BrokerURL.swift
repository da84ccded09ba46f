/// The broker address of `--mqtt-url`: `mqtt://[user@]host[:port]` or `mqtts://…`. A
/// password in the URL is refused: it would end up in logs and `ps` output.
public struct BrokerURL: Sendable, Equatable {
    public var tls: Bool
    public var user: String?
    /// Without brackets for IPv6.
    public var host: String
    /// 1883 for `mqtt://`, 8883 for `mqtts://` when the URL has none.
    public var port: Int

    public init?(_ text: String) {
        var rest: Substring
        if text.hasPrefix("mqtt://") {
            tls = false
            rest = text.dropFirst(7)
        } else if text.hasPrefix("mqtts://") {
            tls = true
            rest = text.dropFirst(8)
        } else {
            return nil
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        if let at = rest.lastIndex(of: "@") {
            let user = rest[..<at]
            guard !user.isEmpty, !user.contains(":") else { return nil }
            self.user = String(user)
            rest = rest[rest.index(after: at)...]
        } else {
            user = nil
        }
        guard !rest.contains("/"), !rest.contains("?"), !rest.contains("#") else { return nil }
        let defaultPort = tls ? 8883 : 1883
        let hasPort = rest.hasPrefix("[") ? rest.contains("]:") : rest.contains(":")
        guard let address = ListenAddress(hasPort ? String(rest) : String(rest) + ":" + String(defaultPort)),
            address.transport == .both, address.port > 0
        else { return nil }
        host = address.host
        port = address.port
    }
}
