import NIOCore

/// The devices that share one event loop, and the timing wheel that ticks them.
///
/// One timer per event loop instead of one per device: with 10,000 devices, NIO's
/// scheduled-task heap cost more than generating and writing the frames. The wheel has one
/// slot per millisecond of the tick interval (one turn is exactly one interval); each device
/// sits in the slot of its random phase and ticks when the wheel passes it. (With 10 ms slots
/// the fleet sent in bursts of rate/100 frames, and the bridge's latency measured the bursts.)
///
/// Not `Sendable`: it lives in a `NIOLoopBoundBox` and is only touched on `eventLoop`.
final class DeviceShard {
    private static let slotTarget = TimeAmount.milliseconds(1)
    private static let maximumSlots = 100_000

    private let eventLoop: any EventLoop
    private let devices: [SimulatedDevice]
    private let connectDelays: [TimeAmount]
    private let counters: SimCounters
    private let slotDuration: TimeAmount
    /// Positions in `devices`, by slot.
    private var slots: [[Int]]
    private var nextSlot = 0
    private var nextDeadline = NIODeadline.now()
    private var turnTask: Scheduled<Void>?

    /// `devices` pairs each device with the delay after which it first connects.
    init(
        eventLoop: any EventLoop, devices: [(device: SimulatedDevice, connectDelay: TimeAmount)],
        interval: TimeAmount, counters: SimCounters
    ) {
        self.eventLoop = eventLoop
        self.devices = devices.map(\.device)
        self.connectDelays = devices.map(\.connectDelay)
        self.counters = counters
        let slotCount = Int(min(max(interval.nanoseconds / Self.slotTarget.nanoseconds, 1), Int64(Self.maximumSlots)))
        slotDuration = .nanoseconds(max(interval.nanoseconds / Int64(slotCount), 1))
        slots = Array(repeating: [], count: slotCount)
        let intervalSeconds = Double(interval.nanoseconds) / 1e9
        for (position, device) in self.devices.enumerated() {
            let slot = Int(device.phase(of: intervalSeconds) * 1e9) / Int(slotDuration.nanoseconds)
            slots[min(slot, slotCount - 1)].append(position)
        }
    }

    /// Starts each device after its connect delay, and the wheel now.
    func start() {
        for (device, delay) in zip(devices, connectDelays) {
            device.start(after: delay)
        }
        nextDeadline = .now()
        turn()
    }

    /// Stops the wheel and every device; succeeds when all connections are closed.
    func stop() -> EventLoopFuture<Void> {
        turnTask?.cancel()
        turnTask = nil
        return EventLoopFuture.andAllComplete(devices.map { $0.stop() }, on: eventLoop)
    }

    /// Ticks every slot whose time has come. A loop that fell more than a whole turn behind
    /// counts the ticks it cannot make up as missed and carries on from now, without a burst.
    private func turn() {
        let now = NIODeadline.now()
        var passed = 0
        while nextDeadline <= now && passed < slots.count {
            for position in slots[nextSlot] {
                devices[position].tick()
            }
            advance(slots: 1)
            passed += 1
        }
        if nextDeadline <= now {
            let behind = Int((now - nextDeadline).nanoseconds / slotDuration.nanoseconds) + 1
            let missed = (0..<behind).reduce(0) { $0 + slots[(nextSlot + $1) % slots.count].count }
            counters.record { $0.ticksMissed += missed }
            advance(slots: behind)
        }
        turnTask = eventLoop.assumeIsolated().scheduleTask(deadline: nextDeadline) {
            self.turn()
        }
    }

    private func advance(slots count: Int) {
        nextSlot = (nextSlot + count) % slots.count
        nextDeadline = nextDeadline + .nanoseconds(slotDuration.nanoseconds * Int64(count))
    }
}
