import NIOCore

/// The devices of a live run, spread over the event loops of a group, one `DeviceShard` each.
struct Simulator: Sendable {
    private struct Member: Sendable {
        let eventLoop: any EventLoop
        let shard: NIOLoopBoundBox<DeviceShard>
    }

    private let members: [Member]

    /// TCP devices get numbers `0 ..< tcpDevices`, UDP devices the numbers after them. Device
    /// `i` first connects after `i / connectRate` seconds, so thousands of connections ramp up.
    init(
        tcpDevices: Int, udpDevices: Int, interval: TimeAmount, connectRate: Double,
        settings: TrackerSettings, environment: SimulatedDevice.Environment, group: any EventLoopGroup
    ) {
        let eventLoops = Array(group.makeIterator())
        members = eventLoops.enumerated().map { loopNumber, eventLoop in
            let devices = stride(from: loopNumber, to: tcpDevices + udpDevices, by: eventLoops.count).map { index in
                (
                    device: SimulatedDevice(
                        index: index, transport: index < tcpDevices ? .tcp : .udp, settings: settings,
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
