import TrackerCodec
import TestSupport
import Testing

@Suite struct StreamSplitterTests {
    let login = Array("*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^".utf8)
    let heartbeat = Array("*170821223045UB00HSO^".utf8)

    func reasons(_ events: [SplitterEvent]) -> [String] {
        events.map {
            switch $0 {
            case .frame(let bytes, let index): "frame:" + (index == 0 ? "" : "\(TrackerProtocols.all[index].name):") + String(decoding: bytes, as: UTF8.self)
            case .rejected(let r): r.reason.rawValue + ":" + String(decoding: r.raw, as: UTF8.self)
            }
        }
    }

    @Test func skipsWhitespaceAndNULBetweenFramesWithoutDeadLetters() {
        var splitter = StreamSplitter()
        let input = Array("\r\n \t\0".utf8) + heartbeat + Array("\r\n".utf8) + heartbeat
        let events = SplitterHarness.events(&splitter, input, chunks: [input.count])
        #expect(events == [.frame(heartbeat, protocolIndex: 0), .frame(heartbeat, protocolIndex: 0)])
        #expect(splitter.skippedBytes == 7)
    }

    @Test func garbageRunBecomesOneDeadLetter() {
        let input = Array("GET / HTTP/1.1\r\n".utf8) + heartbeat + Array("xyz".utf8)
        #expect(reasons(SplitterHarness.events(input, chunks: [input.count])) == [
            "garbage:GET / HTTP/1.1\r\n", "frame:*170821223045UB00HSO^", "garbage:xyz",
        ])
    }

    @Test func lineFeedEndsAGarbageRun() {
        var splitter = StreamSplitter()
        splitter.append(Array("one\r\ntwo\nthr".utf8))
        var events: [SplitterEvent] = []
        while let event = splitter.next() { events.append(event) }
        #expect(reasons(events) == ["garbage:one\r\n", "garbage:two\n"])
        #expect(reasons(splitter.finish()) == ["garbage:thr"])
    }

    @Test func newHeaderInsideAFrameTruncatesTheOpenOne() {
        let input = Array("*170821223045UB05ORANGE".utf8) + heartbeat
        #expect(reasons(SplitterHarness.events(input, chunks: [input.count])) == [
            "truncated frame:*170821223045UB05ORANGE", "frame:*170821223045UB00HSO^",
        ])
    }

    @Test func starNotFollowedByTwelveDigitsIsContent() {
        let frame = Array("*170821223045UR00TIMEZONE*123456*+00^".utf8)
        #expect(SplitterHarness.events(frame, chunks: [frame.count]) == [.frame(frame, protocolIndex: 0)])
        #expect(SplitterHarness.events(frame, chunks: Array(repeating: 1, count: frame.count)) == [.frame(frame, protocolIndex: 0)])
    }

    @Test func endOfStreamTruncatesAnOpenFrame() {
        let input = Array("*170821223045UB0".utf8)
        #expect(reasons(SplitterHarness.events(input, chunks: [input.count])) == ["truncated frame:*170821223045UB0"])
    }

    @Test func oversizeFrameIsCutAndTheStreamResynchronises() {
        var splitter = StreamSplitter(options: CodecOptions(maxFrameBytes: 40))
        let long = Array("*170821223045UD00".utf8) + Array(repeating: UInt8(ascii: "7"), count: 100)
        let input = long + Array("^".utf8) + heartbeat
        let events = SplitterHarness.events(&splitter, input, chunks: [input.count])
        guard events.count == 2, case .rejected(let rejection) = events[0] else {
            Issue.record("unexpected \(events)")
            return
        }
        #expect(rejection.reason == .oversizeFrame)
        #expect(rejection.raw == Array(long.prefix(40)))
        #expect(events[1] == .frame(heartbeat, protocolIndex: 0))
        #expect(splitter.discardedBytes == long.count - 40 + 1)
    }

    @Test func oversizeFrameResynchronisesOnTheNextHeader() {
        var splitter = StreamSplitter(options: CodecOptions(maxFrameBytes: 30))
        let input = Array("*170821223045XXXX".utf8) + Array(repeating: UInt8(ascii: "a"), count: 50) + heartbeat
        let events = SplitterHarness.events(&splitter, input, chunks: Array(repeating: 3, count: input.count / 3 + 1))
        #expect(events.count == 2)
        #expect(events.last == .frame(heartbeat, protocolIndex: 0))
        #expect(splitter.discardedBytes == 17 + 50 - 30)
    }

    @Test func frameOfExactlyTheLimitIsAccepted() {
        let frame = heartbeat
        #expect(SplitterHarness.events(frame, chunks: [frame.count], maxFrameBytes: frame.count) == [.frame(frame, protocolIndex: 0)])
        let oneOver = SplitterHarness.events(frame, chunks: [frame.count], maxFrameBytes: frame.count - 1)
        guard case .rejected(let r)? = oneOver.first else {
            Issue.record("expected a rejection")
            return
        }
        #expect(r.reason == .oversizeFrame)
    }

    @Test func h02TextFramesEndAtHashAndCarscopFramesAtCaret() {
        let h02 = Array("*HQ,865205030330012,V1,145452,A,2240.55181,N,11358.32389,E,0.00,0,100815,FFFFFBFF#".utf8)
        let input = h02 + Array("\r\n".utf8) + heartbeat + h02
        let expected = [
            "frame:h02:" + String(decoding: h02, as: UTF8.self), "frame:*170821223045UB00HSO^",
            "frame:h02:" + String(decoding: h02, as: UTF8.self),
        ]
        #expect(reasons(SplitterHarness.events(input, chunks: Array(repeating: 1, count: input.count))) == expected)
        #expect(reasons(SplitterHarness.events(input, chunks: [input.count])) == expected)
    }

    @Test func h02BinaryFramesHaveTheConfiguredLength() {
        let binary = H02Capture.hex("2441060116601245431311165035313006004318210e000000fffffbffff0024")
        let input = binary + heartbeat + binary
        for length in [H02BinaryLength.fixed(32), .auto] {
            var splitter = StreamSplitter(options: CodecOptions(h02BinaryLength: length))
            let events = SplitterHarness.events(&splitter, input, chunks: [input.count])
            #expect(events == [.frame(binary, protocolIndex: 1), .frame(heartbeat, protocolIndex: 0), .frame(binary, protocolIndex: 1)])
        }
    }

    /// `auto` takes 42 or 45 from a read of exactly that size, 32 from any other.
    @Test(arguments: [42, 45])
    func autoBinaryLengthIsLearnedFromTheFirstRead(_ length: Int) {
        let frame = [UInt8(ascii: "$")] + [UInt8](repeating: 0x11, count: length - 1)
        let events = SplitterHarness.events(frame + frame, chunks: [length, length])
        #expect(events == [.frame(frame, protocolIndex: 1), .frame(frame, protocolIndex: 1)])
    }

    /// Over UDP every datagram is judged by itself: `finish` forgets the learned length.
    @Test func eachDatagramHasItsOwnBinaryLength() {
        var splitter = StreamSplitter()
        let long = [UInt8(ascii: "$")] + [UInt8](repeating: 0x22, count: 44)
        let short = [UInt8(ascii: "$")] + [UInt8](repeating: 0x33, count: 31)
        splitter.append(long)
        #expect(splitter.finish() == [.frame(long, protocolIndex: 1)])
        splitter.append(short)
        #expect(splitter.finish() == [.frame(short, protocolIndex: 1)])
    }

    @Test func undecidedStartWaitsForMoreBytes() {
        var splitter = StreamSplitter()
        splitter.append(Array("*H".utf8))
        #expect(splitter.next() == nil)
        splitter.append(Array("Q,1,LINK#".utf8))
        #expect(splitter.next() == .frame(Array("*HQ,1,LINK#".utf8), protocolIndex: 1))
    }

    @Test func aStarThatIsNeitherProtocolIsReadAsAMalformedCarscopFrame() {
        let input = Array("*XYZ^".utf8)
        #expect(SplitterHarness.events(input, chunks: [1, 1, 1, 1, 1]) == [.frame(input, protocolIndex: 0)])
    }

    @Test func longGarbageIsCutAtTheFrameLimit() {
        let input = [UInt8](repeating: UInt8(ascii: "x"), count: 2500)
        let events = SplitterHarness.events(input, chunks: [input.count])
        #expect(events.count == 3)
        let total = events.reduce(0) { sum, e in
            if case .rejected(let r) = e { return sum + r.raw.count }
            return sum
        }
        #expect(total == 2500)
    }

    @Test func manyFramesInOneRead() {
        let input = Array((0..<500).map { _ in login }.joined())
        let events = SplitterHarness.events(input, chunks: [input.count])
        #expect(events.count == 500)
        #expect(events.allSatisfy { $0 == .frame(login, protocolIndex: 0) })
    }

    /// Random bytes never crash the splitter, and every input byte is accounted for exactly
    /// once: in a frame, a rejection, or a counter.
    @Test(arguments: 0..<200)
    func randomInputIsFullyAccountedFor(_ seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed))
        let alphabet = Array("*^#$0123456789UBDA05HQV,\r\n \0x.NSEW".utf8)
        let length = Int(rng.next() % 3000)
        var input: [UInt8] = []
        for _ in 0..<length {
            let r = rng.next()
            input.append(r % 4 == 0 ? UInt8(truncatingIfNeeded: r >> 8) : alphabet[Int(r >> 16) % alphabet.count])
        }
        if seed % 5 == 0 {
            input += login
        }
        var chunks: [Int] = []
        var remaining = input.count
        while remaining > 0 {
            let size = 1 + Int(rng.next() % 200)
            chunks.append(size)
            remaining -= size
        }
        var splitter = StreamSplitter(options: CodecOptions(maxFrameBytes: 64 + seed))
        let events = SplitterHarness.events(&splitter, input, chunks: chunks)
        var accounted = splitter.skippedBytes + splitter.discardedBytes
        var reassembled: [UInt8] = []
        for event in events {
            switch event {
            case .frame(let bytes, let index):
                accounted += bytes.count
                reassembled += bytes
                #expect(
                    bytes.first == UInt8(ascii: "$")
                        || bytes.first == UInt8(ascii: "*") && (bytes.last == UInt8(ascii: "^") || bytes.last == UInt8(ascii: "#")))
                _ = try? TrackerProtocols.all[index].decode(bytes)
            case .rejected(let rejection):
                accounted += rejection.raw.count
                reassembled += rejection.raw
            }
        }
        #expect(accounted == input.count)
        #expect(reassembled.count <= input.count)
    }
}

/// A small deterministic generator, so a failing seed can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
