/// Whether a UDP device can be written to: a datagram can only reach it through the NAT
/// binding its own last datagram opened, so it is reachable for `--udp-reply-window`
/// (default 60 s) after that datagram. TCP devices are reachable while connected.
public struct ReplyWindow: Sendable, Equatable {
    public let milliseconds: Int64

    public init(seconds: Int = 60) {
        milliseconds = Int64(seconds) * 1000
    }

    /// True when a datagram received at `lastDatagramAt` still lets us answer at `now`
    /// (a wall clock stepped back counts as open: the datagram is recent).
    public func isOpen(lastDatagramAt: Int64?, now: Int64) -> Bool {
        guard let lastDatagramAt else { return false }
        return now - lastDatagramAt <= milliseconds
    }
}
