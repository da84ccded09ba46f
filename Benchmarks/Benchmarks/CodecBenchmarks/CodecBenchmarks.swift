import Benchmark
import BenchmarkFrames
import BridgeCore
import TrackerCodec

/// Splits and decodes every frame through the protocol registry, as the bridge does.
private func splitAndDecode(_ chunks: [ArraySlice<UInt8>]) -> Int {
    var splitter = StreamSplitter()
    var decoded = 0
    for chunk in chunks {
        splitter.append(chunk)
        while let event = splitter.next() {
            if case .frame(let bytes, let index) = event, (try? TrackerProtocols.all[index].decode(bytes)) != nil {
                decoded += 1
            }
        }
    }
    return decoded
}

/// The whole per-connection path: split, decode, session, normalize to the contract's JSON.
private func pipelineToJSON(_ chunks: [ArraySlice<UInt8>], context: ConnectionPipeline.Context) -> Int {
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
    return bytes
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(5),
        maxIterations: 500
    )

    // Framing + decoding: bytes in, typed messages out. One iteration is 10,000 frames, so
    // frames/s = 10,000 × 1,000 / (time per iteration in ms).
    Benchmark("split+decode 10k frames") { benchmark in
        for _ in benchmark.scaledIterations {
            let decoded = splitAndDecode(BenchmarkFrames.carscopChunks)
            precondition(decoded == BenchmarkFrames.framesPerIteration)
            blackHole(decoded)
        }
    }

    // The whole per-connection path of the bridge: split, decode, session, normalize to the
    // contract's JSON (with SHA-256 payload ids).
    Benchmark("pipeline to JSON 10k frames") { benchmark in
        let context = ConnectionPipeline.Context(normalizer: Normalizer(topics: try! TopicLayout()))
        for _ in benchmark.scaledIterations {
            blackHole(pipelineToJSON(BenchmarkFrames.carscopChunks, context: context))
        }
    }

    Benchmark("H02 split+decode 10k text frames") { benchmark in
        for _ in benchmark.scaledIterations {
            let decoded = splitAndDecode(BenchmarkFrames.h02Chunks)
            precondition(decoded == BenchmarkFrames.framesPerIteration)
            blackHole(decoded)
        }
    }

    Benchmark("H02 pipeline to JSON 10k text frames") { benchmark in
        let context = ConnectionPipeline.Context(normalizer: Normalizer(topics: try! TopicLayout()))
        for _ in benchmark.scaledIterations {
            blackHole(pipelineToJSON(BenchmarkFrames.h02Chunks, context: context))
        }
    }
}
