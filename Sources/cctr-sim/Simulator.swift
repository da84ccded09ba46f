import NIOCore

/// The devices of a live run, spread over the event loops of a group.
struct Simulator: Sendable {
    private struct Member: Sendable {
        let eventLoop: any EventLoop
        let device: NIOLoopBoundBox<SimulatedDevice>
    }

    private let members: [Member]
    private let connectRate: Double

    /// TCP devices get numbers `0 ..< tcpDevices`, UDP devices the numbers after them.
    init(
        tcpDevices: Int, udpDevices: Int, connectRate: Double, settings: TrackerSettings,
        environment: SimulatedDevice.Environment, group: any EventLoopGroup
    ) {
        self.connectRate = connectRate
        members = (0..<(tcpDevices + udpDevices)).map { index in
            let eventLoop = group.next()
            let transport: SimulatedDevice.Transport = index < tcpDevices ? .tcp : .udp
            let device = NIOLoopBoundBox.makeBoxSendingValue(
                SimulatedDevice(
                    index: index, transport: transport, settings: settings, environment: environment,
                    eventLoop: eventLoop),
                eventLoop: eventLoop)
            return Member(eventLoop: eventLoop, device: device)
        }
    }

    /// Starts device `i` after `i / connectRate` seconds, so thousands of connections ramp up.
    func start() {
        for (position, member) in members.enumerated() {
            let delay = TimeAmount.nanoseconds(Int64(Double(position) / connectRate * 1e9))
            member.eventLoop.execute {
                member.device.value.start(after: delay)
            }
        }
    }

    /// Stops every device and waits until their connections are closed.
    func stop() async throws {
        let closed = members.map { member in
            member.eventLoop.flatSubmit {
                member.device.value.stop()
            }
        }
        guard let anyLoop = members.first?.eventLoop else { return }
        try await EventLoopFuture.andAllComplete(closed, on: anyLoop).get()
    }
}
