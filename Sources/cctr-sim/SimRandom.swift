/// A seeded SplitMix64 generator.
///
/// The standard library's generator cannot be seeded, and a simulation must replay the same
/// devices, routes and events for the same `--seed`. Each device draws from its own stream so
/// that what it does does not depend on how devices interleave.
struct SimRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    /// A generator for one independent stream (for example one device) of a seeded run.
    init(seed: UInt64, stream: UInt64) {
        var mixer = SimRandom(seed: seed ^ (stream &+ 1) &* 0xD1B5_4A32_D192_ED03)
        self.state = mixer.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `probability` (0 never, 1 always).
    mutating func chance(_ probability: Double) -> Bool {
        probability > 0 && Double.random(in: 0..<1, using: &self) < probability
    }

    /// A uniform value in `range`.
    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        Double.random(in: range, using: &self)
    }
}
