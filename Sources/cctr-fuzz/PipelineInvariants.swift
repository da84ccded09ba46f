import BridgeCore
import TrackerCodec
import Foundation

/// The properties the fuzzer checks on one input, shared with the regression test that
/// replays `Tests/Fixtures/fuzz-regressions/`.
///
/// The input is fed to a `ConnectionPipeline` (splitter, decoder, session, normalizer) in
/// chunks whose sizes, and the places where a UDP-style `endOfInput` cuts the stream, come
/// from a generator seeded by the input itself, so a crash input replays identically.
/// Checked: every publication is a JSON object `JSONSerialization` parses (raw frames with
/// `--publish-raw` are frames, `*` to `^`); every input byte
/// is accounted for (frames + rejections + `skippedBytes` + `discardedBytes` == input
/// length); and the splitter gives the same events whatever the chunking.
public enum PipelineInvariants {
    /// The violations found for `input`; empty when all properties hold.
    public static func violations(in input: [UInt8]) -> [String] {
        var problems: [String] = []
        var random = SplitMix(seed: fnv1a(input))
        let context = ConnectionPipeline.Context(
            normalizer: Normalizer(topics: try! TopicLayout(base: "cctr", instance: "fuzz")),
            limits: DeviceSession.Limits(heldFramesMax: 4, heldFramesMaxAge: 5_000),
            // A fixed binary length: `auto` learns it from the size of a read, which would make
            // chunked and whole input split differently by design.
            codec: CodecOptions(maxFrameBytes: 256, h02BinaryLength: .fixed(32)),
            publishRaw: true
        )
        var pipeline = ConnectionPipeline(
            context: context, source: PayloadSource(transport: .tcp, peer: "192.0.2.1:1", instance: "fuzz")
        )
        var mirror = StreamSplitter(options: context.codec)
        var mirrorEvents: [SplitterEvent] = []
        var outputs: [ConnectionPipeline.Output] = []
        var now: Int64 = 1_795_550_102_000
        var offset = 0
        var cutMidStream = false
        while offset < input.count {
            let length = min(input.count - offset, 1 + Int(random.next() % (random.next() % 4 == 0 ? 300 : 24)))
            let chunk = input[offset..<offset + length]
            offset += length
            now += Int64(random.next() % 3_000)
            pipeline.receive(chunk, at: now, into: &outputs)
            mirror.append(chunk)
            while let event = mirror.next() {
                mirrorEvents.append(event)
            }
            switch random.next() % 32 {
            case 0:
                cutMidStream = true
                pipeline.endOfInput(at: now, into: &outputs)
                mirrorEvents += mirror.finish()
            case 1:
                pipeline.tick(now: now, into: &outputs)
            default:
                break
            }
        }
        pipeline.close(at: now, into: &outputs)
        mirrorEvents += mirror.finish()

        for output in outputs {
            guard case .publish(let message) = output else { continue }
            if message.kind == .raw {
                // `--publish-raw`: the frame text as received, by contract not JSON.
                let first = message.payload.first
                let last = message.payload.last
                if !(first == UInt8(ascii: "*") && (last == UInt8(ascii: "^") || last == UInt8(ascii: "#")) || first == UInt8(ascii: "$")) {
                    problems.append("raw payload on \(message.topic) is not a frame")
                }
                continue
            }
            let parsed = try? JSONSerialization.jsonObject(with: Data(message.payload))
            if !(parsed is [String: Any]) {
                problems.append("payload on \(message.topic) is not a JSON object: \(String(decoding: message.payload, as: UTF8.self))")
            }
        }

        let accounted = mirrorEvents.reduce(0) { sum, event in
            switch event {
            case .frame(let bytes, _): sum + bytes.count
            case .rejected(let rejection): sum + rejection.raw.count
            }
        } + mirror.skippedBytes + mirror.discardedBytes
        if accounted != input.count {
            problems.append("accounted for \(accounted) bytes of \(input.count)")
        }
        if pipeline.splitter.skippedBytes != mirror.skippedBytes || pipeline.splitter.discardedBytes != mirror.discardedBytes {
            problems.append("the pipeline's splitter counted differently from a splitter fed the same chunks")
        }

        if !cutMidStream {
            var whole = StreamSplitter(options: context.codec)
            whole.append(input)
            var wholeEvents: [SplitterEvent] = []
            while let event = whole.next() {
                wholeEvents.append(event)
            }
            wholeEvents += whole.finish()
            if wholeEvents != mirrorEvents {
                problems.append("chunked input split into \(mirrorEvents.count) events, the whole input into \(wholeEvents.count)")
            }
        }
        return problems
    }

    /// FNV-1a, to seed the chunking from the input.
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }
}

/// A small deterministic generator (SplitMix64): the same input always gets the same chunks.
struct SplitMix {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
