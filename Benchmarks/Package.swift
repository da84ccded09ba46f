// swift-tools-version:6.1
import PackageDescription

/// Codec and normalizer throughput, with ordo-one/benchmark:
/// `swift package --allow-writing-to-package-directory benchmark` from this folder; and
/// instructions per frame under callgrind (`InstructionCount`, run by scripts/instructions.sh).
let package = Package(
    name: "cctr-bridge-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "cctr-bridge", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(
            name: "BenchmarkFrames",
            path: "Benchmarks/BenchmarkFrames"
        ),
        .executableTarget(
            name: "InstructionCount",
            dependencies: [
                "BenchmarkFrames",
                .product(name: "BridgeCore", package: "cctr-bridge"),
            ],
            path: "Benchmarks/InstructionCount"
        ),
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                "BenchmarkFrames",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TrackerCodec", package: "cctr-bridge"),
                .product(name: "BridgeCore", package: "cctr-bridge"),
            ],
            path: "Benchmarks/CodecBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
