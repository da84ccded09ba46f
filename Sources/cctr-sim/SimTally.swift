import Synchronization

/// What a run has done so far; the numbers of the exit report.
struct SimTally: Sendable, Equatable {
    /// Frames whose write succeeded, by command word (raw value).
    var framesSent: [String: Int] = [:]
    var bytesSent = 0
    var connectionsOpened = 0
    var connectionsFailed = 0
    var connectionsClosedByPeer = 0
    var udpSocketsOpened = 0
    var udpSocketsFailed = 0
    var datagramsSent = 0
    var writeErrors = 0
    /// Errors the sockets reported outside writes (for example ICMP port unreachable on UDP).
    var socketErrors = 0
    /// Ticks that sent nothing because the device had no connection.
    var ticksSkippedOffline = 0
    /// Ticks that sent nothing because the socket's send buffer was full.
    var ticksSkippedBackpressure = 0
    /// Ticks that never ran because the event loops fell behind (the machine is too busy for
    /// the asked rate).
    var ticksMissed = 0
    var downlinkBytes = 0
    var downlinkMessages = 0
    var positionRequestsAnswered = 0

    var framesTotal: Int { framesSent.values.reduce(0, +) }
}

/// The run's shared tally, updated from every event loop.
final class SimCounters: Sendable {
    private let tally = Mutex(SimTally())

    func record(_ update: (inout SimTally) -> Void) {
        tally.withLock { update(&$0) }
    }

    var snapshot: SimTally {
        tally.withLock { $0 }
    }
}
