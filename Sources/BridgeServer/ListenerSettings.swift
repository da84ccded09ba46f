import BridgeCore

/// What the device listeners need besides the pipeline context.
public struct ListenerSettings: Sendable {
    /// Milliseconds without input before a session is closed (`--idle-timeout`).
    public var idleTimeout: Int64
    /// Frames per second per session, 0 = off (`--frame-rate-limit`); burst is 10 × the rate.
    public var frameRateLimit: Int
    public var maxConnections: Int
    /// 0 = off (`--max-connections-per-ip`).
    public var maxConnectionsPerIP: Int

    public init(idleTimeout: Int64 = 1_800_000, frameRateLimit: Int = 100, maxConnections: Int = 100_000, maxConnectionsPerIP: Int = 0) {
        self.idleTimeout = idleTimeout
        self.frameRateLimit = frameRateLimit
        self.maxConnections = maxConnections
        self.maxConnectionsPerIP = maxConnectionsPerIP
    }
}
