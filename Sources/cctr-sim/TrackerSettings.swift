/// What every simulated tracker of a run has in common (from the command line).
struct TrackerSettings: Sendable {
    /// The id prefix; ids are the prefix plus the zero-padded device number, 15 characters.
    var idPrefix: String
    var seed: UInt64
    /// A `UB00HSO` takes the place of the tick after every this many positions; 0 never.
    var heartbeatEvery: Int
    var alarmProbability: Double
    var historyProbability: Double
    var noFixProbability: Double
    /// Send one live position before each `UB05` login, on every other device.
    var holdBeforeLogin: Bool

    static let idLength = 15

    /// The id of device number `index` (0-based): `SIM000000000001` for the first with prefix `SIM`.
    func deviceID(index: Int) -> String {
        idPrefix + zeroPadded(index + 1, width: Self.idLength - idPrefix.count)
    }

    /// The id of H02 device number `index`: 10 digits, as the units use (and binary frames
    /// can carry in BCD): `4` and the zero-padded number.
    func h02DeviceID(index: Int) -> String {
        "4" + zeroPadded(index + 1, width: 9)
    }
}
