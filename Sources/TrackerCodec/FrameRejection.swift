/// Bytes that did not form a frame or a decodable frame, with the reason for the dead letter.
public struct FrameRejection: Sendable, Equatable, Error {
    public var reason: RejectReason
    public var raw: [UInt8]
    public var detail: String

    public init(reason: RejectReason, raw: [UInt8], detail: String) {
        self.reason = reason
        self.raw = raw
        self.detail = detail
    }
}
