/// One tracker protocol on the shared port: how its frames are recognised and delimited,
/// what they mean, what the bridge answers and how commands are framed. Implementations are
/// pure (bytes in, values out; time is passed in) and live in a folder of their own
/// (`Carscop/`, `H02/`); `TrackerProtocols.all` registers them. `docs/adding-a-protocol.md`
/// walks through adding a third.
public protocol TrackerProtocol: Sendable {
    /// `source.protocol` in payloads, the status's `protocol`, the template file's `protocol`.
    static var name: ProtocolName { get }

    /// A framer for one connection (TCP) or source address (UDP): it may learn from the
    /// connection's first frames (H02's binary length), so each stream gets its own.
    static func makeFramer(options: CodecOptions) -> any TrackerFramer

    /// Decodes one frame the framer delimited.
    static func decode(_ frame: [UInt8]) throws(FrameRejection) -> DeviceMessage

    /// The bytes the server writes back on receiving `message` from `deviceID` at `now`
    /// (UTC), when the protocol expects an answer (H02 answers `V1` and `NBR`); nil otherwise.
    static func answer(to message: DeviceMessage, deviceID: String, now: CivilDateTime) -> [UInt8]?

    /// Wraps a rendered command text into the protocol's downlink frame for `deviceID`, at
    /// `now` (UTC). `deviceClock` is `now` moved into the device's configured time zone, for
    /// protocols whose frames carry local time (carscop's header).
    static func frameCommand(_ text: String, deviceID: String, now: CivilDateTime, deviceClock: CivilDateTime) -> [UInt8]
}

/// The name of a tracker protocol. A struct rather than an enum so that a protocol's folder
/// adds its own name (`extension ProtocolName { static let … }`) without touching a shared list.
public struct ProtocolName: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

/// What a framer says about the bytes at a candidate frame start.
public enum Sniff: Sendable, Equatable {
    /// Not a frame start of this protocol.
    case notMine
    /// Too few bytes to decide; ask again when more arrive (or at the end of input).
    case needMore
    /// A frame of this protocol starts here, delimited as `FrameShape` says.
    case frame(FrameShape)
}

/// How a frame ends.
public enum FrameShape: Sendable, Equatable {
    /// At this byte, inclusive (`^` for carscop, `#` for H02 text). Bounded by `maxFrameBytes`.
    case terminated(by: UInt8)
    /// After exactly this many bytes (H02 binary).
    case fixedLength(Int)
}

/// The per-stream framing state of one protocol.
public protocol TrackerFramer: Sendable {
    /// The bytes this protocol's frames may start with (`*`, `$`): only at these does the
    /// splitter ask the framers, so garbage costs one table lookup per byte.
    var startBytes: [UInt8] { get }

    /// Looks at `head`, the bytes available from a candidate frame start (a byte no framer
    /// has claimed yet). `endOfInput`: no more bytes will follow in this unit (a UDP
    /// datagram's end), so the framer must decide from what it has.
    mutating func sniff(_ head: ArraySlice<UInt8>, endOfInput: Bool) -> Sniff

    /// Inside a terminated frame of any protocol, whether the byte at `head.first` starts a
    /// new frame of this protocol for certain (the open frame then lost its terminator).
    /// Only strong evidence counts here (carscop: `*` and 12 digits), since frame bodies may
    /// contain the start byte.
    func restartsInside(_ head: ArraySlice<UInt8>) -> Lookahead

    /// A unit of input ended (a UDP datagram): forget what was learned from it.
    mutating func endOfInput()
}

public enum Lookahead: Sendable, Equatable {
    case yes, no, needMoreInput
}

/// Codec settings shared by all connections (from the command line).
public struct CodecOptions: Sendable, Equatable {
    /// The longest terminated frame accepted, counted from its first byte to its terminator.
    public var maxFrameBytes: Int
    /// `--h02-binary-length`.
    public var h02BinaryLength: H02BinaryLength

    public init(maxFrameBytes: Int = 1024, h02BinaryLength: H02BinaryLength = .auto) {
        self.maxFrameBytes = maxFrameBytes
        self.h02BinaryLength = h02BinaryLength
    }
}
