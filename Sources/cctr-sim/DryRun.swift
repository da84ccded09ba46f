/// `--dry-run N`: the first N frames the devices would send, in time order, on a simulated
/// clock and without any network. Devices log in at the `--connect-rate` ramp and then tick
/// every interval from a random phase, as in a live run where the server accepts everything.
struct DryRun {
    let tcpDevices: Int
    let udpDevices: Int
    let deviceCount: Int
    let settings: TrackerSettings
    let intervalSeconds: Double
    let connectRate: Double
    let startNanoseconds: Int64

    /// Calls `emit` with each frame's text, `count` times (fewer only if there are no
    /// devices). Binary frames are shown as hex.
    func run(count: Int, emit: (String) -> Void) {
        guard deviceCount > 0 else { return }
        var devices = (0..<deviceCount).map { index in
            TrackerBehavior(
                index: index, settings: settings,
                dialect: Simulator.role(of: index, tcpDevices: tcpDevices, udpDevices: udpDevices).1)
        }
        let interval = Int64(intervalSeconds * 1e9)
        var nextEvent = (0..<deviceCount).map { startNanoseconds + Int64(Double($0) / connectRate * 1e9) }
        var loggedIn = [Bool](repeating: false, count: deviceCount)
        var emitted = 0
        while emitted < count {
            var device = 0
            for candidate in 1..<deviceCount where nextEvent[candidate] < nextEvent[device] {
                device = candidate
            }
            let now = nextEvent[device]
            let frames: [TrackerBehavior.Frame]
            if loggedIn[device] {
                frames = [devices[device].tickFrame(atNanoseconds: now)]
                nextEvent[device] = now + interval
            } else {
                loggedIn[device] = true
                frames = devices[device].connectFrames(atNanoseconds: now)
                nextEvent[device] = now + Int64(devices[device].phase(of: intervalSeconds) * 1e9)
            }
            for frame in frames.prefix(count - emitted) {
                emit(frame.word == .h02Binary ? Self.hex(frame.bytes) : String(decoding: frame.bytes, as: UTF8.self))
                emitted += 1
            }
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
    }
}
