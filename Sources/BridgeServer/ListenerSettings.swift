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
    /// The byte budget of each TCP connection, in bytes per second (0 = off): past it the
    /// bridge stops reading that connection until it is back within the budget. Trackers send
    /// well under 1 KiB/s; the default leaves 16 times that.
    public var bytesPerSecond: Int
    /// Bytes a connection may send at once beyond its rate: room for a tracker that uploads
    /// its stored records after a gap (a thousand frames of ~130 bytes, as the frame-rate
    /// limit's burst allows).
    public var byteBurst: Int
    /// `--trace-stages`: where the listeners time `decode` and `hub`; nil (off) costs nothing.
    public var stageTrace: StageTrace?

    public init(
        idleTimeout: Int64 = 1_800_000, frameRateLimit: Int = 100, maxConnections: Int = 100_000, maxConnectionsPerIP: Int = 0,
        bytesPerSecond: Int = 16_384, byteBurst: Int = 262_144, stageTrace: StageTrace? = nil
    ) {
        self.stageTrace = stageTrace
        self.idleTimeout = idleTimeout
        self.frameRateLimit = frameRateLimit
        self.maxConnections = maxConnections
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.bytesPerSecond = bytesPerSecond
        self.byteBurst = byteBurst
    }
}
