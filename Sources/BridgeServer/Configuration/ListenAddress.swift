/// A socket address to listen on, as written in `--listen` / `--metrics-listen`:
/// `[tcp://|udp://]HOST:PORT`, IPv6 hosts in brackets (`[::]:8888`).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// The transports one `--listen` opens: a bare address opens both.
    public enum Transport: String, Sendable, Equatable {
        case tcp, udp, both
    }

    public var transport: Transport
    /// The host without brackets (`::` for `[::]`).
    public var host: String
    /// 0 lets the system choose (tests).
    public var port: Int

    public init(transport: Transport, host: String, port: Int) {
        self.transport = transport
        self.host = host
        self.port = port
    }

    /// Reachable from this host only: `127.0.0.0/8`, `::1` or `localhost`.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Parses the text form; `nil` when it is not `[scheme://]HOST:PORT` with a port 0-65535.
    public init?(_ text: String) {
        var rest = Substring(text)
        if rest.hasPrefix("tcp://") {
            transport = .tcp
            rest = rest.dropFirst(6)
        } else if rest.hasPrefix("udp://") {
            transport = .udp
            rest = rest.dropFirst(6)
        } else {
            transport = .both
        }
        let hostPart: Substring
        let portPart: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            portPart = rest[rest.index(close, offsetBy: 2)...]
            guard hostPart.contains(":") else { return nil }
        } else {
            guard let colon = rest.lastIndex(of: ":") else { return nil }
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
            guard !hostPart.contains(":") else { return nil }
        }
        guard !hostPart.isEmpty, !hostPart.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "[" || $0 == "]" }),
            !portPart.isEmpty, portPart.allSatisfy(\.isASCII), portPart.allSatisfy(\.isNumber),
            let port = Int(portPart), (0...65_535).contains(port)
        else { return nil }
        host = String(hostPart)
        self.port = port
    }

    /// One address per transport: a bare address (`.both`) becomes a TCP and a UDP one.
    public var split: [ListenAddress] {
        switch transport {
        case .both: [ListenAddress(transport: .tcp, host: host, port: port), ListenAddress(transport: .udp, host: host, port: port)]
        case .tcp, .udp: [self]
        }
    }

    /// `host:port` with IPv6 hosts bracketed, without a scheme.
    public var hostAndPort: String {
        (host.contains(":") ? "[\(host)]" : host) + ":" + String(port)
    }

    /// The text form, which parses back to the same value.
    public var description: String {
        switch transport {
        case .both: hostAndPort
        case .tcp: "tcp://" + hostAndPort
        case .udp: "udp://" + hostAndPort
        }
    }
}
