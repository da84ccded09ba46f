import BridgeCore
import TrackerCodec
import Logging
import Mosquitto
import Synchronization

/// Downlink commands, wired to MQTT and the device sessions: takes command messages from the
/// command subscription (`$share/<group>/<base>/+/cmd` or `<base>/+/cmd`, which `Bridge`
/// chooses per connection; `CommandSubscription`) and this instance's `forward` topic, lets
/// `CommandRouting` decide from the hub's ownership view whether this instance acts on each,
/// keeps one `CommandQueue` per device, hands queued commands over when their device's newer
/// session is on another instance, writes frames to the device's session and publishes every
/// result (also to the MQTT 5 response topic with its correlation data). Each final result
/// gets an audit log line.
final class CommandService: DeviceTrafficObserver {
    private struct State: Sendable {
        var queues: [String: CommandQueue] = [:]
        /// How commands arrive on the current broker connection.
        var mode = RoutingMode.broadcast
        /// Last frame time of UDP devices: they are reachable only within the reply window.
        var lastDatagram: [String: Int64] = [:]
        /// The protocol each device last spoke: commands are written in it.
        var protocols: [String: ProtocolName] = [:]
        var responseTargets: [String: ResponseTarget] = [:]
        var nextID: UInt64 = 1
    }

    let subscriptions: [String]
    private let topics: TopicLayout
    private let templates: CommandTemplates
    private let policy: CommandPolicy
    private let replyWindow: ReplyWindow
    private let haPrefix: String
    private let devices: DeviceSettingsTable
    private let logger: Logger
    private let state: Mutex<State>

    init(options: BridgeOptions, topics: TopicLayout, templates: CommandTemplates, logger: Logger) {
        self.topics = topics
        self.templates = templates
        policy = CommandPolicy(
            defaultTTLSeconds: options.commandTTL.wholeSeconds, maxTTLSeconds: options.commandTTLMax.wholeSeconds,
            defaultDevicePassword: options.devicePassword,
            devicePasswords: options.devices.compactMapValues(\.password)
        )
        replyWindow = ReplyWindow(seconds: options.udpReplyWindow.wholeSeconds)
        haPrefix = options.haPrefix
        devices = options.deviceSettings
        self.logger = logger
        subscriptions = [topics.bridge(.forward)]
        state = Mutex(State())
    }

    func observe(_ event: DeviceTrafficEvent, hub: DeviceHub) -> [OutboundMessage] {
        switch event {
        case .brokerMessage(let message, let now):
            return incoming(message, now: now, hub: hub)
        case .frame(let frame, let deviceID, let now):
            let handle = hub.handle(forDevice: deviceID)
            let hasCommands = state.withLock { state in
                if handle?.transport == .udp { state.lastDatagram[deviceID] = now }
                if state.protocols[deviceID] != frame.protocolName { state.protocols[deviceID] = frame.protocolName }
                return state.queues[deviceID] != nil
            }
            acknowledge(frame, deviceID: deviceID, handle: handle, now: now)
            // Every position passes here: a device with no command waiting, nearly all of
            // them, costs one lookup (a command that arrives later is dispatched on arrival).
            guard hasCommands else {
                return frame.isCommandReply ? [unmatchedReply(frame, deviceID: deviceID, handle: handle, now: now)] : []
            }
            let actions = withQueue(deviceID, hub: hub, now: now) { queue, _ in
                queue.deviceFrame(
                    word: frame.messageType, body: frame.body, raw: String(latin1: frame.raw), isReply: frame.isCommandReply, now: now)
                    + queue.deviceUplink(now: now)
            }
            return actions.contains(.unmatchedReply) ? [unmatchedReply(frame, deviceID: deviceID, handle: handle, now: now)] : []
        case .offline(let deviceID, let now):
            withQueue(deviceID, hub: hub, now: now) { queue, _ in queue.deviceGone(now: now) }
            return []
        case .tick(let now):
            let deviceIDs = state.withLock { state in
                state.queues.filter { ($0.value.nextDeadline ?? .max) <= now }.map(\.key)
            }
            for id in deviceIDs { withQueue(id, hub: hub, now: now) { queue, _ in queue.tick(now: now) } }
            return []
        case .brokerConnected(let mode, _):
            state.withLock { $0.mode = mode }
            return []
        case .claimedElsewhere(let deviceID, let owner, let now):
            return handOver(deviceID, to: owner, now: now, hub: hub)
        case .online, .published:
            return []
        }
    }

    // MARK: - Incoming commands

    private func incoming(_ message: IncomingMessage, now: Int64, hub: DeviceHub) -> [OutboundMessage] {
        if message.topic == topics.bridge(.forward) {
            return forwarded(message, now: now, hub: hub)
        }
        guard message.topic.hasPrefix(topics.base + "/"), message.topic.hasSuffix("/cmd") else { return [] }
        let mode = state.withLock { $0.mode }
        guard let deviceID = CommandRouting.deviceID(commandTopic: message.topic, base: topics.base) else {
            // Broadcast: every instance got it; the one the topic hashes to reports it.
            let reports = mode == .shared || hub.withOwnership { $0.custodian(of: message.topic) == $0.instance }
            return reports ? [deadLetter(.badDeviceID, message, detail: "the command topic names no valid device id", now: now)] : []
        }
        let decision = hub.withOwnership { CommandRouting.decide(deviceID: deviceID, view: $0, mode: mode) }
        if case .ignore = decision { return [] }
        guard !message.retain else {
            return [deadLetter(.retainedCommand, message, detail: "retained command messages are never executed", now: now)]
        }
        let parsed = CommandRequest.parse(
            message.payload, deviceID: deviceID, templates: templates, policy: policy, assignID: assignID
        )
        guard case .accepted(var request) = parsed else {
            if case .rejected(let rejection) = parsed {
                publish(CommandResult(rejection, deviceID: deviceID, at: now, instance: topics.instance), hub: hub)
            }
            return []
        }
        let target = message.responseTopic.map { ResponseTarget(topic: $0, correlationData: message.correlationData) }
        switch decision {
        case .ignore:
            return []
        case .execute, .park:
            keep(target, for: &request)
            submit(request, deviceID: deviceID, now: now, hub: hub)
            return []
        case .forward(let owner):
            logger.info("command forwarded", metadata: [
                "command.id": "\(request.id)", "device.id": "\(deviceID)", "to": "\(owner)",
            ])
            // Only the owner sees the results, so the target travels with the command and is
            // kept (or refused) there; kept here, it would never be cleared.
            return [CommandRouting.forwardMessage(
                request, topic: message.topic, responseTarget: target, to: owner, topics: topics, deviceID: deviceID)]
        }
    }

    /// The device's newer session is on `owner`: the commands still queued here for it go
    /// there, marked as a hand-over, with their response targets and what is left of their
    /// ttl; this instance forgets them.
    private func handOver(_ deviceID: String, to owner: String, now: Int64, hub: DeviceHub) -> [OutboundMessage] {
        let (handOvers, targets) = state.withLock { state -> ([CommandQueue.HandOver], [ResponseTarget?]) in
            guard var queue = state.queues[deviceID] else { return ([], []) }
            let (handOvers, actions) = queue.handOver(now: now)
            publish(actions, state: &state, hub: hub)
            state.queues[deviceID] = queue.isEmpty ? nil : queue
            let targets = handOvers.map { state.responseTargets.removeValue(forKey: $0.request.id) }
            return (handOvers, targets)
        }
        guard !handOvers.isEmpty else { return [] }
        var out: [OutboundMessage] = []
        logger.info("queued commands handed over", metadata: [
            "device.id": "\(deviceID)", "to": "\(owner)", "commands": "\(handOvers.map(\.request.id))",
        ])
        for (handOver, target) in zip(handOvers, targets) {
            out.append(CommandRouting.forwardMessage(
                handOver.request, topic: topics.device(deviceID, .cmd), responseTarget: target,
                handOverTTL: handOver.remainingSeconds, to: owner, topics: topics, deviceID: deviceID))
        }
        return out
    }

    /// Keeps the controller's response target until the command's final result, or notes in
    /// the request why the topic is refused (the results on the normal topic then say so).
    private func keep(_ target: ResponseTarget?, for request: inout CommandRequest) {
        guard let target else { return }
        if let refusal = CommandResult.responseTopicRefusal(target.topic, topics: topics, haPrefix: haPrefix) {
            request.note = refusal
        } else {
            state.withLock { $0.responseTargets[request.id] = target }
        }
    }

    private func forwarded(_ message: IncomingMessage, now: Int64, hub: DeviceHub) -> [OutboundMessage] {
        guard let forwarded = ForwardedCommand.parse(
            message.payload, base: topics.base, templates: templates, policy: policy, assignID: assignID
        ) else {
            return [deadLetter(
                .badDeviceID, message, detail: "a forwarded command that names no valid device or has a malformed response target",
                now: now)]
        }
        switch forwarded.command {
        case .accepted(var request) where forwarded.isHandOver:
            // A command this queue has or finished is merged away: its target must not be
            // kept, since no final result would clear it.
            let known = state.withLock { $0.queues[forwarded.deviceID]?.knows(request.id) ?? false }
            guard !known else { return [] }
            keep(forwarded.responseTarget, for: &request)
            withQueue(forwarded.deviceID, hub: hub, now: now) { queue, reachable in
                queue.adopt(request, now: now, deviceReachable: reachable.isReachable)
            }
            return []
        case .accepted(var request):
            // Always kept here: a forwarded command moves on only with a newer session of its
            // device (a hand-over), so it never bounces between instances.
            keep(forwarded.responseTarget, for: &request)
            submit(request, deviceID: forwarded.deviceID, now: now, hub: hub)
            return []
        case .rejected(let rejection):
            publish(CommandResult(rejection, deviceID: forwarded.deviceID, at: now, instance: topics.instance), hub: hub)
            return []
        }
    }

    private func submit(_ request: CommandRequest, deviceID: String, now: Int64, hub: DeviceHub) {
        withQueue(deviceID, hub: hub, now: now) { queue, reachable in
            queue.submit(request, now: now, deviceReachable: reachable.isReachable)
        }
    }

    // MARK: - Queues and actions

    private struct Reachability {
        var isReachable: Bool
    }

    /// Runs `body` on the device's queue (created on first use) and performs its actions;
    /// returns them. Results go to the sink under the state lock, so they reach the publisher
    /// in the order the queue produced them: a `sent` from a write completing on an event loop
    /// cannot overtake the `queued` of the same command. Frames are written after the lock
    /// (a write's completion may run at once and take it again). `body` runs under the lock:
    /// it must not touch `state` itself.
    @discardableResult
    private func withQueue(
        _ deviceID: String, hub: DeviceHub, now: Int64,
        _ body: (inout CommandQueue, Reachability) -> [CommandQueue.Action]
    ) -> [CommandQueue.Action] {
        let handle = hub.handle(forDevice: deviceID)
        let actions = state.withLock { state -> [CommandQueue.Action] in
            var reachable = Reachability(isReachable: handle != nil)
            if handle?.transport == .udp {
                reachable.isReachable = replyWindow.isOpen(lastDatagramAt: state.lastDatagram[deviceID], now: now)
            }
            var queue = state.queues[deviceID] ?? CommandQueue(
                deviceID: deviceID, instance: topics.instance,
                timeZoneOffsetSeconds: devices[deviceID].timeZoneOffsetSeconds
            )
            queue.protocolName = state.protocols[deviceID]
            let actions = body(&queue, reachable)
            state.queues[deviceID] = queue.isEmpty ? nil : queue
            publish(actions, state: &state, hub: hub)
            return actions
        }
        for case .send(let commandID, let frame) in actions {
            write(frame, commandID: commandID, deviceID: deviceID, handle: handle, hub: hub)
        }
        return actions
    }

    /// A result of no queue (a rejection).
    private func publish(_ result: CommandResult, hub: DeviceHub) {
        state.withLock { publish([.publishResult(result)], state: &$0, hub: hub) }
    }

    /// Publishes the results among `actions` (also to the command's response topic, whose
    /// target a final result clears) and logs each final one; the caller holds the lock.
    private func publish(_ actions: [CommandQueue.Action], state: inout State, hub: DeviceHub) {
        for case .publishResult(let result) in actions {
            hub.metrics.command(status: result.status.rawValue)
            if result.isFinal {
                logger.info("command", metadata: [
                    "command.id": "\(result.id ?? "null")", "command.type": "\(result.type ?? "null")",
                    "device.id": "\(result.deviceID)", "status": "\(result.status.rawValue)",
                    "reason": "\(result.reason ?? "")",
                ])
            }
            let message = result.message(topics: topics)
            hub.sink.submit(message)
            guard let id = result.id, let target = state.responseTargets[id] else { continue }
            if result.isFinal { state.responseTargets[id] = nil }
            var copy = message
            copy.topic = target.topic
            copy.correlationData = target.correlationData
            hub.sink.submit(copy)
        }
    }

    /// Writes a command frame; the write's outcome comes back on the socket's event loop and
    /// is fed to the queue then.
    private func write(_ frame: [UInt8], commandID: String, deviceID: String, handle: DeviceHub.SessionHandle?, hub: DeviceHub) {
        guard let handle else {
            withQueue(deviceID, hub: hub, now: WallClock.milliseconds()) { queue, _ in
                queue.writeResult(commandID: commandID, .failed(reason: "device not connected"), now: WallClock.milliseconds())
            }
            return
        }
        handle.write(frame) { [self] ok in
            let now = WallClock.milliseconds()
            withQueue(deviceID, hub: hub, now: now) { queue, _ in
                queue.writeResult(commandID: commandID, ok ? .written : .failed(reason: "write to the device failed"), now: now)
            }
        }
    }

    /// A frame its protocol calls a command reply (H02 `V4`) that no command in flight
    /// matched: an `unmatched_reply` event, so the device's answer is not lost.
    private func unmatchedReply(_ frame: DeviceMessage, deviceID: String, handle: DeviceHub.SessionHandle?, now: Int64) -> OutboundMessage {
        let source = PayloadSource(
            transport: handle?.transport ?? .tcp, peer: handle?.peer ?? "unknown", instance: topics.instance,
            protocolName: frame.protocolName)
        return Normalizer(topics: topics).event(
            frame, kind: .unmatchedReply, deviceID: deviceID, settings: devices[deviceID], receivedAt: now, source: source)
    }

    /// The optional acknowledgements to a carscop tracker (templates `acks`, off by default).
    private func acknowledge(_ frame: DeviceMessage, deviceID: String, handle: DeviceHub.SessionHandle?, now: Int64) {
        guard frame.protocolName == .carscop else { return }
        let kind: CommandTemplates.AckKind
        switch frame.content {
        case .heartbeat: kind = .heartbeat
        case .alarm: kind = .alarm
        case _ where frame.deviceID != nil: kind = .login
        default: return
        }
        guard let handle, let ack = templates.acknowledgement(
            kind, deviceID: deviceID, now: now, timeZoneOffsetSeconds: devices[deviceID].timeZoneOffsetSeconds
        ) else { return }
        handle.write(ack) { _ in }
    }

    private func assignID() -> String {
        let n = state.withLock { state -> UInt64 in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return "b-\(topics.instance)-\(WallClock.milliseconds())-\(n)"
    }

    private func deadLetter(_ reason: RejectReason, _ message: IncomingMessage, detail: String, now: Int64) -> OutboundMessage {
        Normalizer(topics: topics).deadLetter(
            FrameRejection(reason: reason, raw: message.payload, detail: "\(detail) (topic \(message.topic))"),
            deviceID: nil, receivedAt: now,
            source: PayloadSource(transport: .mqtt, peer: message.topic, instance: topics.instance)
        )
    }
}

extension CommandService {
    /// Not `.published` (sent for every message a device causes) nor `.online`: nothing to
    /// do for them. `.brokerConnected` carries the routing mode of the new connection.
    var interests: DeviceTrafficEvent.Kinds { [.brokerMessage, .frame, .offline, .tick, .brokerConnected, .claimedElsewhere] }
}
