/// One broker node the client connects to. A cluster gives several; the client tries them
/// in turn (`MosquittoClient.Configuration.brokers`).
public struct BrokerAddress: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP address; IPv6 literals without brackets (`::1`).
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, IPv6 in brackets.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
