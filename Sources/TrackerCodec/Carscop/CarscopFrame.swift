/// A decoded device-to-server frame. Values are as sent; turning them into published
/// payloads (time zones, units, topics) is the bridge core's job.
public struct CarscopFrame: Sendable, Equatable {
    /// The frame from `*` to `^` inclusive, exactly as received.
    public var raw: [UInt8]
    /// The 12-digit `yymmddhhmmss` header, device local time; may not be a real instant.
    public var header: CivilDateTime
    /// The 4-character command word (`UB05`, `UD00`, ...).
    public var word: String
    public var content: Content

    public enum Content: Sendable, Equatable {
        /// `UB00` (`HSO`): keeps the connection alive; carries no position.
        case heartbeat
        /// `UB05`: the login, the only frame that names the device.
        case login(deviceID: String, gps: GPSBlock)
        /// `UD00` live position, or `UB04` position answering a request (`field` holds the
        /// 9 characters before the block, meaning unknown).
        case position(gps: GPSBlock, field: String?)
        /// `UD04`: a stored position uploaded late.
        case history(gps: GPSBlock)
        /// `UA01`: an alarm with its own position.
        case alarm(code: String, label: String, gps: GPSBlock)
        /// A command word this decoder does not know; `body` is the text after it.
        case unknown(body: String)
    }

    public init(raw: [UInt8], header: CivilDateTime, word: String, content: Content) {
        self.raw = raw
        self.header = header
        self.word = word
        self.content = content
    }

    /// The GPS block, for frames that carry one.
    public var gps: GPSBlock? {
        switch content {
        case .login(_, let gps), .position(let gps, _), .history(let gps), .alarm(_, _, let gps): gps
        case .heartbeat, .unknown: nil
        }
    }
}
