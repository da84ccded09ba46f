import NIOCore

/// The devices of a live run, spread over the event loops of a group, one `DeviceShard` each.
struct Simulator: Sendable {
    private struct Member: Sendable {
        let eventLoop: any EventLoop
        let shard: NIOLoopBoundBox<DeviceShard>
    }

    private let members: [Member]

    /// TCP devices get numbers `0 ..< tcpDevices`, UDP devices the numbers after them, H02
    /// devices the numbers after those (alternately TCP and UDP; every third sends binary
    /// frames). Device `i` first connects after `i / connectRate` seconds, so thousands of
    /// connections ramp up.
    init(
        tcpDevices: Int, udpDevices: Int, h02Devices: Int = 0, interval: TimeAmount, connectRate: Double,
        settings: TrackerSettings, environment: SimulatedDevice.Environment, group: any EventLoopGroup
    ) {
        let eventLoops = Array(group.makeIterator())
        members = eventLoops.enumerated().map { loopNumber, eventLoop in
            let devices = stride(from: loopNumber, to: tcpDevices + udpDevices + h02Devices, by: eventLoops.count).map { index in
                let (transport, dialect) = Self.role(of: index, tcpDevices: tcpDevices, udpDevices: udpDevices)
                return (
                    device: SimulatedDevice(
                        index: index, transport: transport, dialect: dialect, settings: settings,
                        environment: environment, eventLoop: eventLoop),
                    connectDelay: TimeAmount.nanoseconds(Int64(Double(index) / connectRate * 1e9))
                )
            }
            let shard = NIOLoopBoundBox.makeBoxSendingValue(
                DeviceShard(eventLoop: eventLoop, devices: devices, interval: interval, counters: environment.counters),
                eventLoop: eventLoop)
            return Member(eventLoop: eventLoop, shard: shard)
        }
    }

    /// The transport and protocol of device number `index`.
    static func role(of index: Int, tcpDevices: Int, udpDevices: Int) -> (SimulatedDevice.Transport, TrackerBehavior.Dialect) {
        let h02 = index - tcpDevices - udpDevices
        guard h02 >= 0 else { return (index < tcpDevices ? .tcp : .udp, .carscop) }
        return (h02 % 2 == 0 ? .tcp : .udp, h02 % 3 == 2 ? .h02Binary : .h02Text)
    }

    func start() {
        for member in members {
            member.eventLoop.execute {
                member.shard.value.start()
            }
        }
    }

    /// Stops every device and waits until their connections are closed.
    func stop() async throws {
        let stopped = members.map { member in
            member.eventLoop.flatSubmit {
                member.shard.value.stop()
            }
        }
        guard let anyLoop = members.first?.eventLoop else { return }
        try await EventLoopFuture.andAllComplete(stopped, on: anyLoop).get()
    }
}
