/// Splits a byte stream into frames of every registered protocol, whatever the chunking:
/// one byte per read or many frames per read give the same result.
///
/// At each candidate frame start (a byte some protocol starts frames with, such as `*` or
/// `$`) the protocols' framers are asked in registration order; the first to claim the bytes
/// decides how the frame ends (a terminator, or a fixed length). While a framer needs more
/// bytes to decide, the splitter waits (bounded by `maxFrameBytes`). Which protocol a
/// connection speaks, and what a frame of another protocol means, is the caller's business:
/// every frame comes out with the index of its protocol in `TrackerProtocols.all`.
///
/// Garbage (bytes outside a frame) is reported per run: a run ends at the next candidate
/// frame start, at a line feed, at `maxFrameBytes`, or at the end of the stream.
///
/// Every input byte is accounted for: it leaves in a frame, in a rejection (the dead letter
/// of the caller), or in one of the counters `skippedBytes` (CR, LF, space, TAB, NUL between
/// frames) and `discardedBytes` (the rest of an oversize frame after its first
/// `maxFrameBytes`). Memory stays bounded by `maxFrameBytes` plus the unread input.
///
/// Usage: `append` what was read, then call `next()` until it returns nil. At the end of a
/// unit of input (TCP close, end of a UDP datagram, end of stdin) call `finish()`, which turns
/// what is still open into rejections and resets the splitter.
public struct StreamSplitter: Sendable {
    /// The longest terminated frame accepted, counted from its first byte to its terminator.
    public let maxFrameBytes: Int
    /// Whitespace and NUL bytes skipped between frames.
    public private(set) var skippedBytes = 0
    /// Bytes thrown away after an oversize frame was cut, until the stream resynchronised.
    public private(set) var discardedBytes = 0

    private var framers: [any TrackerFramer]
    /// `isStart[b]`: some protocol may start a frame with byte `b`.
    private let isStart: [Bool]
    private var buffer: [UInt8] = []
    /// Start of the unit (frame or garbage run) being assembled.
    private var start = 0
    /// Next byte to examine.
    private var cursor = 0
    private var mode = Mode.between
    /// Set by `finish`: framers must decide with the bytes there are.
    private var ending = false

    private enum Mode: Sendable {
        case between, garbage
        case terminated(UInt8, protocolIndex: Int)
        case fixed(Int, protocolIndex: Int)
        case discarding(UInt8)
    }

    public init(options: CodecOptions = CodecOptions(), protocols: [any TrackerProtocol.Type] = TrackerProtocols.all) {
        precondition(options.maxFrameBytes >= 20, "a frame needs at least 20 bytes")
        maxFrameBytes = options.maxFrameBytes
        framers = protocols.map { $0.makeFramer(options: options) }
        var table = [Bool](repeating: false, count: 256)
        for framer in framers {
            for byte in framer.startBytes { table[Int(byte)] = true }
        }
        isStart = table
    }

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
                if isStart[Int(byte)] {
                    switch claim(at: cursor) {
                    case .needMore:
                        return nil
                    case .claimed(.terminated(by: let terminator), let index):
                        mode = .terminated(terminator, protocolIndex: index)
                        start = cursor
                        cursor += 1
                        continue
                    case .claimed(.fixedLength(let length), let index):
                        mode = .fixed(length, protocolIndex: index)
                        start = cursor
                        continue
                    case .unclaimed:
                        break
                    }
                }
                if Self.isSkippable(byte) {
                    skippedBytes += 1
                    cursor += 1
                    start = cursor
                } else {
                    mode = .garbage
                    start = cursor
                    cursor += 1
                }
            case .garbage:
                if isStart[Int(byte)] {
                    return closeUnit(.garbage, detail: "bytes outside a frame")
                }
                cursor += 1
                // A line feed ends a run too, so a line of garbage is reported when it is
                // complete rather than when the next frame or the close arrives.
                if byte == 0x0A || cursor - start >= maxFrameBytes {
                    return closeUnit(.garbage, detail: "bytes outside a frame")
                }
            case .terminated(let terminator, let index):
                if byte != terminator, !isStart[Int(byte)] {
                    // Most bytes of a frame are neither: skip them in one tight loop.
                    let stop = min(buffer.count, start + maxFrameBytes)
                    cursor = scanOrdinary(from: cursor, to: stop, terminator: terminator)
                    if cursor == stop {
                        guard cursor - start >= maxFrameBytes else { return nil }
                        let event = closeUnit(
                            .oversizeFrame,
                            detail: "no terminator within \(maxFrameBytes) bytes; skipping to the next frame"
                        )
                        mode = .discarding(terminator)
                        return event
                    }
                    continue
                }
                if byte == terminator {
                    cursor += 1
                    let frame = Array(buffer[start..<cursor])
                    mode = .between
                    start = cursor
                    return .frame(frame, protocolIndex: index)
                }
                if isStart[Int(byte)], cursor > start {
                    switch restarts(at: cursor) {
                    case .needMoreInput:
                        return nil
                    case .yes:
                        return closeUnit(.truncatedFrame, detail: "a new frame started before this one ended")
                    case .no:
                        break
                    }
                }
                cursor += 1
                if cursor - start >= maxFrameBytes {
                    let event = closeUnit(
                        .oversizeFrame,
                        detail: "no terminator within \(maxFrameBytes) bytes; skipping to the next frame"
                    )
                    mode = .discarding(terminator)
                    return event
                }
            case .fixed(let length, let index):
                guard buffer.count - start >= length else {
                    cursor = buffer.count
                    return nil
                }
                cursor = start + length
                let frame = Array(buffer[start..<cursor])
                mode = .between
                start = cursor
                return .frame(frame, protocolIndex: index)
            case .discarding(let terminator):
                if isStart[Int(byte)] {
                    switch restarts(at: cursor) {
                    case .needMoreInput:
                        return nil
                    case .yes:
                        mode = .between
                        start = cursor
                        continue
                    case .no:
                        break
                    }
                }
                discardedBytes += 1
                cursor += 1
                start = cursor
                if byte == terminator {
                    mode = .between
                }
            }
        }
        return nil
    }

    /// Ends the unit of input: returns the events still pending, then what is left open (a
    /// frame without its terminator or its full length becomes `truncated frame`, a garbage
    /// run `garbage`), and resets the splitter for reuse. Counters are kept.
    public mutating func finish() -> [SplitterEvent] {
        var events: [SplitterEvent] = []
        ending = true
        while let event = next() {
            events.append(event)
        }
        ending = false
        cursor = buffer.count
        switch mode {
        case .garbage:
            events.append(closeUnit(.garbage, detail: "bytes outside a frame"))
        case .terminated:
            events.append(closeUnit(.truncatedFrame, detail: "the input ended before the frame's terminator"))
        case .fixed(let length, _):
            events.append(closeUnit(.truncatedFrame, detail: "the input ended \(length - (cursor - start)) bytes short of a \(length)-byte frame"))
        case .discarding:
            discardedBytes += buffer.count - start
        case .between:
            break
        }
        for index in framers.indices {
            framers[index].endOfInput()
        }
        buffer.removeAll(keepingCapacity: true)
        start = 0
        cursor = 0
        mode = .between
        return events
    }

    private enum Claim {
        case claimed(FrameShape, protocolIndex: Int)
        case needMore
        case unclaimed
    }

    /// The first index in `from..<to` holding `terminator` or a start byte, or `to`.
    private func scanOrdinary(from: Int, to: Int, terminator: UInt8) -> Int {
        buffer.withUnsafeBufferPointer { bytes in
            isStart.withUnsafeBufferPointer { isStart in
                var i = from
                while i < to {
                    let byte = bytes[i]
                    if byte == terminator || isStart[Int(byte)] { return i }
                    i += 1
                }
                return to
            }
        }
    }

    /// Asks the framers, in order, about the bytes from `index`.
    private mutating func claim(at index: Int) -> Claim {
        let head = buffer[index...]
        for i in framers.indices {
            switch framers[i].sniff(head, endOfInput: ending) {
            case .frame(let shape): return .claimed(shape, protocolIndex: i)
            case .needMore where !ending: return .needMore
            case .needMore, .notMine: continue
            }
        }
        return .unclaimed
    }

    /// Whether some protocol certainly starts a frame at `index`, inside an open one.
    private func restarts(at index: Int) -> Lookahead {
        let head = buffer[index...]
        var needMore = false
        for framer in framers {
            switch framer.restartsInside(head) {
            case .yes: return .yes
            case .needMoreInput: needMore = true
            case .no: continue
            }
        }
        return needMore && !ending ? .needMoreInput : .no
    }

    private mutating func closeUnit(_ reason: RejectReason, detail: String) -> SplitterEvent {
        let raw = Array(buffer[start..<cursor])
        start = cursor
        mode = .between
        return .rejected(FrameRejection(reason: reason, raw: raw, detail: detail))
    }

    @inline(__always)
    private static func isSkippable(_ byte: UInt8) -> Bool {
        byte == 0x0D || byte == 0x0A || byte == 0x20 || byte == 0x09 || byte == 0x00
    }
}

/// One result of splitting: a complete frame, or bytes that cannot be one.
public enum SplitterEvent: Sendable, Equatable {
    /// A frame, not yet decoded, of the protocol `TrackerProtocols.all[protocolIndex]`.
    case frame([UInt8], protocolIndex: Int)
    case rejected(FrameRejection)
}
