// swift-tools-version:6.1
import PackageDescription

/// Module tiers, lowest first (each may import only those above it):
/// - `TrackerCodec`: bytes in, typed messages out, frames back, one folder per protocol
///   (`Carscop/`, `H02/`) behind the `TrackerProtocol` seam. No I/O, no clocks, no Foundation.
/// - `BridgeCore`: per-connection sessions, normalization to the contract's JSON payloads,
///   command logic. Plain values returning actions; time is passed in.
/// - `CMosquitto` / `Mosquitto`: the only code that talks to libmosquitto.
/// - `Spool`: the on-disk queue between decoding and publishing (plain file I/O).
/// - `BridgeServer`: sockets (SwiftNIO), spool, metrics, the services that wire it together.
/// - `cctr-bridge`, `cctr-sim`: executables that parse flags and start services.
/// - `cctr-fuzz`: the libFuzzer harness over the connection pipeline (scripts/fuzz.sh).
/// - `cctr-bench`: the measuring subscriber and the raw publisher of `scripts/bench.sh`.
let package = Package(
    name: "cctr-bridge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cctr-bridge", targets: ["cctr-bridge"]),
        .executable(name: "cctr-sim", targets: ["cctr-sim"]),
        .executable(name: "cctr-bench", targets: ["cctr-bench"]),
        .library(name: "TrackerCodec", targets: ["TrackerCodec"]),
        .library(name: "BridgeCore", targets: ["BridgeCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(name: "TrackerCodec"),
        .target(
            name: "BridgeCore",
            dependencies: [
                "TrackerCodec",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev", "libssl-dev"])]
        ),
        .target(
            name: "Mosquitto",
            dependencies: [
                "CMosquitto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Spool",
            dependencies: [.product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "BridgeServer",
            dependencies: [
                "BridgeCore",
                "Mosquitto",
                "Spool",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "cctr-bridge",
            dependencies: [
                "BridgeServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "cctr-sim",
            dependencies: [
                "TrackerCodec",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        /// Declares libFuzzer's `LLVMFuzzerRunDriver` for `cctr-fuzz` (see scripts/fuzz.sh).
        .target(name: "CFuzzDriver"),
        .executableTarget(name: "cctr-fuzz", dependencies: ["BridgeCore", "TrackerCodec", "CFuzzDriver"]),
        .executableTarget(
            name: "cctr-bench",
            dependencies: [
                "BridgeCore",
                "Mosquitto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: [],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "TrackerCodecTests", dependencies: ["TrackerCodec", "TestSupport"]),
        .testTarget(name: "BridgeCoreTests", dependencies: ["BridgeCore", "TestSupport"]),
        .testTarget(name: "MosquittoTests", dependencies: ["Mosquitto", "TestSupport"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["cctr-fuzz", "TestSupport"]),
        .testTarget(name: "SpoolTests", dependencies: ["Spool", "TestSupport"]),
        .testTarget(name: "BenchTests", dependencies: ["cctr-bench", "BridgeCore"]),
        .testTarget(
            name: "BridgeServerTests",
            dependencies: [
                "BridgeServer", "TestSupport", "cctr-bridge", "Mosquitto", "Spool",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
