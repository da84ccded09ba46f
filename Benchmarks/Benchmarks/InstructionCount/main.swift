#if canImport(Glibc)
import Glibc
#endif
import BenchmarkFrames
import BridgeCore

/// A fixed workload for instruction counting (`scripts/instructions.sh` runs it under
/// `valgrind --tool=callgrind`): `InstructionCount <carscop|h02> <iterations>` feeds
/// `iterations` × 10,000 frames through a `ConnectionPipeline`, the bridge's whole
/// per-connection path (split, decode, session, JSON with payload ids). Instructions do not
/// depend on the machine's load, so a regression shows as a ratio to the baseline.
let arguments = CommandLine.arguments
guard arguments.count == 3, let iterations = Int(arguments[2]), ["carscop", "h02"].contains(arguments[1]) else {
    print("usage: InstructionCount carscop|h02 ITERATIONS")
    exit(2)
}
let chunks = arguments[1] == "h02" ? BenchmarkFrames.h02Chunks : BenchmarkFrames.carscopChunks
let context = ConnectionPipeline.Context(normalizer: Normalizer(topics: try! TopicLayout()))
var published = 0
for _ in 0..<iterations {
    var pipeline = ConnectionPipeline(
        context: context, source: PayloadSource(transport: .tcp, peer: "203.0.113.9:40112", instance: "main")
    )
    var outputs: [ConnectionPipeline.Output] = []
    for chunk in chunks {
        pipeline.receive(chunk, at: 1_795_550_102_314, into: &outputs)
        for case .publish(let message) in outputs { published += message.payload.count }
        outputs.removeAll(keepingCapacity: true)
    }
}
print("frames \(iterations * BenchmarkFrames.framesPerIteration) payload bytes \(published)")
