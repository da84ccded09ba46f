import Benchmark
import BridgeCore
import TrackerCodec

/// A realistic stream: the public sample frames (positions with and without tail, history,
/// alarm, heartbeat, no-fix), repeated, as one TCP connection would deliver them.
private let sampleFrames = [
    "*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^",
    "*161101144927UD00144927A1203.5394S07657.7255W000.4161101255.0011111111L022043^",
    "*160618232614UD00232614A5009.1747N01910.3829E0.000160618298.2811000000L000000^",
    "*160728045706UD04045706A1202.7738S07658.6489W015.5160728247.8911111111L002626^",
    "*040331141830UA012Hi-jack061825A2934.0133N10627.2544E000.0040331309.6200000000L000000^",
    "*170821223045UB00HSO^",
    "*161101144927UD00144927A1203.5394S07657.7255W000.4161101255.0011111111L022044^",
    "*170821223121UD00061825V0000.0000N00000.0000E000.0040331309.62^",
]

private let framesPerIteration = 10_000
private let stream: [UInt8] = {
    var bytes: [UInt8] = []
    for i in 0..<framesPerIteration {
        bytes += Array(sampleFrames[i % sampleFrames.count].utf8)
    }
    return bytes
}()

/// Reads of about one TCP segment each.
private let chunks: [ArraySlice<UInt8>] = stride(from: 0, to: stream.count, by: 1400).map {
    stream[$0..<min(stream.count, $0 + 1400)]
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(5),
        maxIterations: 500
    )

    // Framing + decoding: bytes in, typed frames out. One iteration is 10,000 frames, so
    // frames/s = 10,000 × 1,000 / (time per iteration in ms).
    Benchmark("split+decode 10k frames") { benchmark in
        for _ in benchmark.scaledIterations {
            var splitter = FrameSplitter()
            var decoded = 0
            for chunk in chunks {
                splitter.append(chunk)
                while let event = splitter.next() {
                    if case .frame(let bytes) = event, (try? CarscopDecoder.decode(bytes)) != nil {
                        decoded += 1
                    }
                }
            }
            precondition(decoded == framesPerIteration)
            blackHole(decoded)
        }
    }

    // The whole per-connection path of the bridge: split, decode, session, normalize to the
    // contract's JSON (with SHA-256 payload ids).
    Benchmark("pipeline to JSON 10k frames") { benchmark in
        let context = ConnectionPipeline.Context(normalizer: Normalizer(topics: try! TopicLayout()))
        for _ in benchmark.scaledIterations {
            var pipeline = ConnectionPipeline(
                context: context, source: PayloadSource(transport: .tcp, peer: "203.0.113.9:40112", instance: "main")
            )
            var outputs: [ConnectionPipeline.Output] = []
            var bytes = 0
            for chunk in chunks {
                pipeline.receive(chunk, at: 1_795_550_102_314, into: &outputs)
                for case .publish(let message) in outputs { bytes += message.payload.count }
                outputs.removeAll(keepingCapacity: true)
            }
            blackHole(bytes)
        }
    }
}
