extension Duration {
    /// Whole seconds, for the core's settings that count in seconds (command TTLs, the UDP
    /// reply window); option values are whole seconds already, so nothing is lost.
    var wholeSeconds: Int {
        Int(components.seconds)
    }

    /// Whole milliseconds, for the core's clocks that count in milliseconds.
    var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
