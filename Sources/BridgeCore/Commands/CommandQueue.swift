import DequeModule
import TrackerCodec

/// The commands of one device, from `submit` to their final result: a plain value that
/// takes events and returns the actions to perform (in order), so it runs in tests with no
/// socket and no clock. Times are milliseconds since the Unix epoch, passed in.
///
/// Rules (contract, "Commands"):
/// - A command is written when the device is reachable and fewer commands are in flight
///   than every in-flight command's (and its own) template `max_in_flight` allows (default
///   1); otherwise it is `queued`. Queued commands go out in submission order.
/// - Exactly one final result per execution: `sent` (template expects no reply), `acked`,
///   `failed`, `expired`; nothing is published for a command after its final result.
/// - A command id seen within its `ttl_s` is not executed again: its latest result is
///   returned again unchanged. After `ttl_s` the id is forgotten and may run again.
///
/// The caller executes the actions:
/// - `.send(commandID, frame)`: write `frame` to the device, then call
///   `writeResult(commandID:, .written / .failed(reason), now:)`.
/// - `.publishResult(result)`: publish `result.message(topics:)` (and to the response
///   topic, if the command had one).
/// - `.unmatchedReply`: the frame given to `deviceFrame` is a reply by its protocol's
///   definition (H02 `V4`) but answers no command in flight: publish it as an event of kind
///   `unmatched_reply`.
///
/// Events: `submit` (a parsed request; `deviceReachable` from the session: TCP connected,
/// or UDP within `ReplyWindow`), `deviceUplink` (any frame from the device: queued commands
/// may go out), `deviceFrame` (every frame from the device, before `deviceUplink`: may ack
/// the command in flight), `writeResult`, `deviceGone` (the session ended), `tick` (call at
/// `nextDeadline` or periodically: ttl expiry, forgetting old ids); and between instances
/// `handOver` (the device's newer session is elsewhere) and `adopt` (a command handed over).
public struct CommandQueue: Sendable {
    public enum Action: Sendable, Equatable {
        case send(commandID: String, frame: [UInt8])
        case publishResult(CommandResult)
        case unmatchedReply
    }

    /// How a write ended.
    public enum WriteOutcome: Sendable, Equatable {
        case written
        case failed(reason: String)
    }

    public let deviceID: String
    public let instance: String
    /// Offset of the device's clock from UTC, for `{header}` and carscop framing.
    public var timeZoneOffsetSeconds: Int
    /// More waiting commands than this are rejected (a controller flooding one device).
    public let maxQueued: Int
    /// The protocol of the device's latest session, set by the owner from the device's
    /// frames: a command is written with that protocol's template. Nil until the device is seen.
    public var protocolName: ProtocolName?

    /// Where a command is in its life.
    private enum State: Sendable, Equatable {
        case queued
        /// `.send` was returned; waiting for `writeResult`.
        case writing(frame: String)
        /// Written; waiting for a frame that matches the reply pattern.
        case awaitingReply(frame: String)
        /// The final result was published; the id is remembered until `expiresAt`.
        case finished
    }

    private struct Entry: Sendable {
        var request: CommandRequest
        var state: State
        /// The template rendering it was written with (set when it is written).
        var plan: CommandPlan?
        var latest: CommandResult
        var expiresAt: Int64
        /// Submission order, so simultaneous expiries are reported in order.
        var sequence: UInt64
    }

    private var entries: [String: Entry] = [:]
    /// Ids of queued commands, oldest first.
    private var pending: Deque<String> = []
    /// Ids of commands written or being written, oldest first.
    private var inFlight: [String] = []
    private var submitted: UInt64 = 0

    public init(deviceID: String, instance: String, timeZoneOffsetSeconds: Int = 0, maxQueued: Int = 64) {
        self.deviceID = deviceID
        self.instance = instance
        self.timeZoneOffsetSeconds = timeZoneOffsetSeconds
        self.maxQueued = maxQueued
    }

    /// The earliest time `tick` has something to do (an expiry or an id to forget).
    public var nextDeadline: Int64? {
        entries.values.lazy.map(\.expiresAt).min()
    }

    /// True when nothing is queued, in flight or remembered: the caller may drop this value.
    public var isEmpty: Bool { entries.isEmpty }

    /// Whether the command `id` is queued, in flight or finished within its ttl here.
    public func knows(_ id: String) -> Bool { entries[id] != nil }

    /// The number of commands waiting to be written.
    public var queuedCount: Int { pending.count }

    /// A new command for this device.
    public mutating func submit(_ request: CommandRequest, now: Int64, deviceReachable: Bool) -> [Action] {
        var actions = tick(now: now)
        if let known = entries[request.id] {
            return actions + [.publishResult(known.latest)]
        }
        guard pending.count < maxQueued else {
            return actions + [.publishResult(result(request, .rejected, final: true, at: now,
                reason: "queue full: \(maxQueued) commands already wait for this device"))]
        }
        if let protocolName, request.plans[protocolName] == nil {
            return actions + [.publishResult(result(request, .rejected, final: true, at: now,
                reason: "no enabled \(request.type.rawValue) template for \(protocolName) devices in the command template file"))]
        }
        let queued = result(request, .queued, final: false, at: now)
        submitted += 1
        entries[request.id] = Entry(
            request: request, state: .queued, plan: nil, latest: queued, expiresAt: now + Int64(request.ttlSeconds) * 1000,
            sequence: submitted)
        pending.append(request.id)
        if deviceReachable { dispatch(now: now, into: &actions) }
        if case .queued = entries[request.id]?.state {
            actions.append(.publishResult(queued))
        }
        return actions
    }

    /// A queued command leaving with its device for another instance.
    public struct HandOver: Sendable, Equatable {
        public var request: CommandRequest
        /// What is left of its `ttl_s`, in whole seconds rounded up (at least 1).
        public var remainingSeconds: Int
    }

    /// The device's newer session is on another instance: gives up the commands still waiting
    /// to be written, oldest first, so they can follow it (`CommandRouting`). This queue
    /// forgets them and publishes nothing more for them; the receiver `adopt`s them. Commands
    /// in flight stay: their reply or failure can only come from the old session.
    public mutating func handOver(now: Int64) -> (handOvers: [HandOver], actions: [Action]) {
        let actions = tick(now: now)
        var handOvers: [HandOver] = []
        while let id = pending.popFirst() {
            guard let entry = entries.removeValue(forKey: id) else { continue }
            let remaining = Int((entry.expiresAt - now + 999) / 1000)
            handOvers.append(HandOver(request: entry.request, remainingSeconds: max(1, remaining)))
        }
        return (handOvers, actions)
    }

    /// A command handed over by another instance (its `ttl_s` is what was left of it there).
    /// Another instance already published its `queued`, so nothing is published now unless it
    /// goes out; an id this queue has or has finished within its ttl is ignored, so a late or
    /// repeated hand-over never runs a command twice nor adds a second result. Handed-over
    /// commands wait behind the ones already queued here, in the order they arrive.
    public mutating func adopt(_ request: CommandRequest, now: Int64, deviceReachable: Bool) -> [Action] {
        var actions = tick(now: now)
        guard entries[request.id] == nil else { return actions }
        submitted += 1
        entries[request.id] = Entry(
            request: request, state: .queued, plan: nil, latest: result(request, .queued, final: false, at: now),
            expiresAt: now + Int64(request.ttlSeconds) * 1000, sequence: submitted)
        pending.append(request.id)
        if deviceReachable { dispatch(now: now, into: &actions) }
        return actions
    }

    /// The device sent something: it is reachable, queued commands may go out.
    public mutating func deviceUplink(now: Int64) -> [Action] {
        var actions = tick(now: now)
        dispatch(now: now, into: &actions)
        return actions
    }

    /// A frame from the device (`word` = its message type, `body` the text after it, `raw`
    /// the whole frame; `isReply`: its protocol says it answers a command). If it matches the
    /// reply pattern of a command in flight (oldest first), that command is `acked` (or
    /// `failed`, when the reply says so) and the next queued one may go out.
    public mutating func deviceFrame(word: String, body: String, raw: String, isReply: Bool = false, now: Int64) -> [Action] {
        for id in inFlight {
            guard let entry = entries[id], let reply = entry.plan?.reply else { continue }
            let frame: String
            switch entry.state {
            case .writing(let f), .awaitingReply(let f): frame = f
            case .queued, .finished: continue
            }
            guard reply.matches(word: word, body: body) else { continue }
            var actions: [Action] = []
            if case .writing = entry.state {
                // The reply overtook the write's completion: the write evidently happened.
                actions.append(.publishResult(record(id, result(entry.request, .sent, final: false, at: now, frame: frame), state: .awaitingReply(frame: frame))))
            }
            if reply.isFailure(body: body) {
                actions.append(.publishResult(record(id, result(entry.request, .failed, final: true, at: now,
                    reason: "the device answered with an error", frame: frame, deviceReply: raw), state: .finished)))
            } else {
                actions.append(.publishResult(record(id, result(entry.request, .acked, final: true, at: now, frame: frame, deviceReply: raw), state: .finished)))
            }
            inFlight.removeAll { $0 == id }
            dispatch(now: now, into: &actions)
            return actions
        }
        return isReply ? [.unmatchedReply] : []
    }

    /// The outcome of a `.send`. After a successful write the next queued command may go
    /// out at once (the device was reachable a moment ago).
    public mutating func writeResult(commandID: String, _ outcome: WriteOutcome, now: Int64) -> [Action] {
        guard let entry = entries[commandID], case .writing(let frame) = entry.state else { return [] }
        var actions: [Action] = []
        switch outcome {
        case .written:
            if entry.plan?.reply == nil {
                actions.append(.publishResult(record(commandID, result(entry.request, .sent, final: true, at: now, frame: frame), state: .finished)))
                inFlight.removeAll { $0 == commandID }
            } else {
                actions.append(.publishResult(record(commandID, result(entry.request, .sent, final: false, at: now, frame: frame), state: .awaitingReply(frame: frame))))
            }
            dispatch(now: now, into: &actions)
        case .failed(let reason):
            actions.append(.publishResult(record(commandID, result(entry.request, .failed, final: true, at: now, reason: "write failed: \(reason)", frame: nil), state: .finished)))
            inFlight.removeAll { $0 == commandID }
        }
        return actions
    }

    /// The device's session ended: commands in flight fail; queued ones keep waiting for
    /// the next session until their ttl.
    public mutating func deviceGone(now: Int64) -> [Action] {
        var actions: [Action] = []
        for id in inFlight {
            guard let entry = entries[id] else { continue }
            let reason: String
            let frame: String?
            switch entry.state {
            case .writing:
                reason = "device gone before the write completed"
                frame = nil
            case .awaitingReply(let f):
                reason = "device gone before a matching reply"
                frame = f
            case .queued, .finished:
                continue
            }
            actions.append(.publishResult(record(id, result(entry.request, .failed, final: true, at: now, reason: reason, frame: frame), state: .finished)))
        }
        inFlight.removeAll()
        return actions
    }

    /// Expires commands whose `ttl_s` passed (queued or in flight) and forgets finished ids
    /// whose `ttl_s` passed. `submit` and `deviceUplink` do this first too, so a command past
    /// its ttl is never written and its id never blocks a new execution.
    public mutating func tick(now: Int64) -> [Action] {
        var actions: [Action] = []
        let due = entries.filter { $0.value.expiresAt <= now }.sorted { $0.value.sequence < $1.value.sequence }
        for (id, entry) in due {
            let ttl = entry.request.ttlSeconds
            switch entry.state {
            case .finished:
                break
            case .queued:
                actions.append(.publishResult(result(entry.request, .expired, final: true, at: now,
                    reason: "ttl_s \(ttl) passed while the device was offline or busy")))
            case .writing(let frame):
                actions.append(.publishResult(result(entry.request, .expired, final: true, at: now,
                    reason: "ttl_s \(ttl) passed before the write completed", frame: frame)))
            case .awaitingReply(let frame):
                actions.append(.publishResult(result(entry.request, .expired, final: true, at: now,
                    reason: "ttl_s \(ttl) passed without a matching reply", frame: frame)))
            }
            entries[id] = nil
        }
        if !due.isEmpty {
            let live = entries
            pending.removeAll { live[$0] == nil }
            inFlight.removeAll { live[$0] == nil }
        }
        return actions
    }

    // MARK: - Internals

    /// Writes queued commands, oldest first, while the in-flight limits allow. A command with
    /// no template for the device's protocol fails (the device changed protocol since it was
    /// accepted, or was never seen).
    private mutating func dispatch(now: Int64, into actions: inout [Action]) {
        while let id = pending.first, let entry = entries[id] {
            let speaking = protocolName ?? .carscop
            guard let plan = entry.request.plans[speaking] else {
                pending.removeFirst()
                actions.append(.publishResult(record(id, result(entry.request, .failed, final: true, at: now,
                    reason: "no enabled \(entry.request.type.rawValue) template for \(speaking) devices in the command template file"),
                    state: .finished)))
                continue
            }
            let limit = inFlight.compactMap { entries[$0]?.plan?.maxInFlight }.reduce(plan.maxInFlight, min)
            guard inFlight.count < limit else { return }
            pending.removeFirst()
            let bytes = plan.frame(now: now, timeZoneOffsetSeconds: timeZoneOffsetSeconds)
            entries[id]?.plan = plan
            entries[id]?.state = .writing(frame: String(decoding: bytes, as: UTF8.self))
            inFlight.append(id)
            actions.append(.send(commandID: id, frame: bytes))
        }
    }

    /// Stores `result` as the command's latest (what a duplicate gets) and moves it to `state`.
    private mutating func record(_ id: String, _ result: CommandResult, state: State) -> CommandResult {
        entries[id]?.latest = result
        entries[id]?.state = state
        return result
    }

    private func result(
        _ request: CommandRequest, _ status: CommandResult.Status, final: Bool, at: Int64, reason: String? = nil,
        frame: String? = nil, deviceReply: String? = nil
    ) -> CommandResult {
        CommandResult(
            id: request.id, deviceID: deviceID, type: request.type.rawValue, status: status, isFinal: final,
            reason: reason ?? request.note, frame: frame, deviceReply: deviceReply, at: at, instance: instance)
    }
}
