/// Splits a byte stream into carscop frames (`*` + 12 digits + word + body + `^`), whatever
/// the chunking: one byte per read or many frames per read give the same result.
///
/// Garbage (bytes outside a frame) is reported per run: a run ends at the next `*`, at a line
/// feed, at `maxFrameBytes`, or at the end of the stream.
///
/// Every input byte is accounted for: it leaves in a frame, in a rejection (the dead letter
/// of the caller), or in one of the counters `skippedBytes` (CR, LF, space, TAB, NUL between
/// frames) and `discardedBytes` (the rest of an oversize frame after its first
/// `maxFrameBytes`). Memory stays bounded by `maxFrameBytes` plus the unread input.
///
/// Usage: `append` what was read, then call `next()` until it returns nil. At the end of the
/// stream (TCP close, end of a UDP datagram, end of stdin) call `finish()`, which turns what
/// is still open into rejections and resets the splitter.
public struct FrameSplitter: Sendable {
    /// The longest frame accepted, counted from `*` to `^` inclusive.
    public let maxFrameBytes: Int
    /// Whitespace and NUL bytes skipped between frames.
    public private(set) var skippedBytes = 0
    /// Bytes thrown away after an oversize frame was cut, until the stream resynchronised.
    public private(set) var discardedBytes = 0

    private var buffer: [UInt8] = []
    /// Start of the unit (frame or garbage run) being assembled.
    private var start = 0
    /// Next byte to examine.
    private var cursor = 0
    private var mode = Mode.between

    private enum Mode {
        case between, garbage, frame, h02, discarding
    }

    public init(maxFrameBytes: Int = 1024) {
        precondition(maxFrameBytes >= 20, "a carscop frame needs at least 20 bytes")
        self.maxFrameBytes = maxFrameBytes
    }

    /// Bytes held while a frame or garbage run is incomplete.
    public var bufferedBytes: Int { buffer.count - start }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0, start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            cursor = 0
            start = 0
        } else if start > 4096, start > buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            cursor -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame or rejection, or nil when more input is needed.
    public mutating func next() -> SplitterEvent? {
        while cursor < buffer.count {
            let byte = buffer[cursor]
            switch mode {
            case .between:
                if byte == Ascii.star {
                    mode = .frame
                    start = cursor
                    cursor += 1
                } else if Self.isSkippable(byte) {
                    skippedBytes += 1
                    cursor += 1
                    start = cursor
                } else {
                    mode = .garbage
                    start = cursor
                    cursor += 1
                }
            case .garbage:
                if byte == Ascii.star {
                    return closeUnit(.garbage, detail: "bytes outside a frame")
                }
                cursor += 1
                // A line feed ends a run too, so a line of garbage is reported when it is
                // complete rather than when the next frame or the close arrives.
                if byte == 0x0A || cursor - start >= maxFrameBytes {
                    return closeUnit(.garbage, detail: "bytes outside a frame")
                }
            case .frame, .h02:
                let terminator = mode == .h02 ? Ascii.hash : Ascii.caret
                if byte == terminator {
                    cursor += 1
                    if mode == .h02 {
                        return closeUnit(.h02Frame, detail: "H02 protocol frame (*HQ,...#); not decoded")
                    }
                    let frame = Array(buffer[start..<cursor])
                    mode = .between
                    start = cursor
                    return .frame(frame)
                }
                if byte == Ascii.star, cursor > start {
                    switch headerFollows(at: cursor) {
                    case .needMoreInput:
                        return nil
                    case .yes:
                        let event = closeUnit(.truncatedFrame, detail: "a new frame started before this one ended")
                        mode = .frame
                        cursor += 1
                        return event
                    case .no:
                        break
                    }
                }
                cursor += 1
                if mode == .frame, cursor - start == 4, buffer[start + 1] == Ascii.h,
                    buffer[start + 2] == Ascii.q, buffer[start + 3] == Ascii.comma
                {
                    mode = .h02
                }
                if cursor - start >= maxFrameBytes {
                    let event = closeUnit(
                        .oversizeFrame,
                        detail: "no terminator within \(maxFrameBytes) bytes; skipping to the next frame"
                    )
                    mode = .discarding
                    return event
                }
            case .discarding:
                if byte == Ascii.star {
                    switch headerFollows(at: cursor) {
                    case .needMoreInput:
                        return nil
                    case .yes:
                        mode = .frame
                        start = cursor
                        cursor += 1
                        continue
                    case .no:
                        break
                    }
                }
                discardedBytes += 1
                cursor += 1
                start = cursor
                if byte == Ascii.caret || byte == Ascii.hash {
                    mode = .between
                }
            }
        }
        return nil
    }

    /// Ends the stream: returns the events still pending, then what is left open (a frame
    /// without its terminator becomes `truncated frame`, a garbage run `garbage`), and
    /// resets the splitter for reuse. Counters are kept.
    public mutating func finish() -> [SplitterEvent] {
        var events: [SplitterEvent] = []
        while let event = next() {
            events.append(event)
        }
        cursor = buffer.count
        switch mode {
        case .garbage:
            events.append(closeUnit(.garbage, detail: "bytes outside a frame"))
        case .frame, .h02:
            events.append(closeUnit(.truncatedFrame, detail: "the stream ended before the frame's terminator"))
        case .discarding:
            discardedBytes += buffer.count - start
        case .between:
            break
        }
        buffer.removeAll(keepingCapacity: true)
        start = 0
        cursor = 0
        mode = .between
        return events
    }

    private mutating func closeUnit(_ reason: RejectReason, detail: String) -> SplitterEvent {
        let raw = Array(buffer[start..<cursor])
        start = cursor
        mode = .between
        return .rejected(FrameRejection(reason: reason, raw: raw, detail: detail))
    }

    private enum Lookahead { case yes, no, needMoreInput }

    /// Whether the `*` at `index` is followed by 12 digits, i.e. starts a new frame.
    private func headerFollows(at index: Int) -> Lookahead {
        var i = index + 1
        while i <= index + 12 {
            guard i < buffer.count else { return .needMoreInput }
            guard Ascii.isDigit(buffer[i]) else { return .no }
            i += 1
        }
        return .yes
    }

    @inline(__always)
    private static func isSkippable(_ byte: UInt8) -> Bool {
        byte == 0x0D || byte == 0x0A || byte == 0x20 || byte == 0x09 || byte == 0x00
    }
}

/// One result of splitting: a complete frame, or bytes that cannot be one.
public enum SplitterEvent: Sendable, Equatable {
    /// A frame from `*` to `^` inclusive, not yet decoded.
    case frame([UInt8])
    case rejected(FrameRejection)
}

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

enum Ascii {
    static let star = UInt8(ascii: "*")
    static let caret = UInt8(ascii: "^")
    static let hash = UInt8(ascii: "#")
    static let comma = UInt8(ascii: ",")
    static let dot = UInt8(ascii: ".")
    static let h = UInt8(ascii: "H")
    static let q = UInt8(ascii: "Q")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- zero < 10 }
}
