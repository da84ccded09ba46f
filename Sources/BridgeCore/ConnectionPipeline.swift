import TrackerCodec

/// Everything one connection needs to turn bytes into publications: splitter, protocol
/// choice, decoder, session and normalizer in one value. `serve` keeps one per TCP
/// connection or UDP source address; `decode` keeps one for stdin. The same code path is what
/// makes `decode`'s output match what `serve` publishes.
///
/// Protocols: a TCP connection speaks the protocol of its first decoded frame; a frame of
/// another protocol later on it is a dead letter (`protocol switch`). UDP datagrams are
/// judged one by one.
public struct ConnectionPipeline: Sendable {
    /// What the pipeline asks its owner to do or count.
    public enum Output: Sendable, Equatable {
        case publish(OutboundMessage)
        case loggedIn(deviceID: String, previous: String?)
        case ended(deviceID: String)
        /// A frame decoded (heartbeats included), for `cctr_frames_total{type}` and for
        /// commands waiting for a reply; `deviceID` is nil before the device is known.
        case decoded(DeviceMessage, deviceID: String?)
        /// Bytes the protocol answers the frame with (H02 `V1` → `V4`): write them back.
        case answer([UInt8])
    }

    /// Settings shared by all connections of a process.
    public struct Context: Sendable {
        public var normalizer: Normalizer
        public var devices: DeviceSettingsTable
        public var limits: DeviceSession.Limits
        public var codec: CodecOptions
        public var publishRaw: Bool
        public var retained: RetainedPositions
        public var isAllowed: @Sendable (String) -> Bool

        public init(
            normalizer: Normalizer, devices: DeviceSettingsTable = DeviceSettingsTable(),
            limits: DeviceSession.Limits = DeviceSession.Limits(), codec: CodecOptions = CodecOptions(),
            publishRaw: Bool = false, retained: RetainedPositions = RetainedPositions(),
            isAllowed: @escaping @Sendable (String) -> Bool = { _ in true }
        ) {
            self.normalizer = normalizer
            self.devices = devices
            self.limits = limits
            self.codec = codec
            self.publishRaw = publishRaw
            self.retained = retained
            self.isAllowed = isAllowed
        }
    }

    public let context: Context
    /// The `source` of this connection's payloads; its protocol follows the frames.
    public private(set) var source: PayloadSource
    public private(set) var splitter: StreamSplitter
    public private(set) var session: DeviceSession
    /// The protocol a TCP connection chose with its first decoded frame (an index into
    /// `TrackerProtocols.all`).
    private var chosenProtocol: Int?
    /// A device known from a persisted UDP binding: the session takes it at the first frame
    /// that does not name a device itself, when the frame's protocol is known.
    private var pendingResume: String?
    private var actions: [DeviceSession.Action] = []

    public init(context: Context, source: PayloadSource) {
        self.context = context
        self.source = source
        splitter = StreamSplitter(options: context.codec)
        session = DeviceSession(limits: context.limits, isAllowed: context.isAllowed)
    }

    public var deviceID: String? { session.deviceID }

    /// Bytes read at `receivedAt` (milliseconds since the Unix epoch).
    public mutating func receive(_ bytes: some Sequence<UInt8>, at receivedAt: Int64, into out: inout [Output]) {
        splitter.append(bytes)
        while let event = splitter.next() {
            handle(event, at: receivedAt, into: &out)
        }
    }

    /// The end of a unit of input that cannot continue a frame: a UDP datagram. Open frames
    /// and garbage become dead letters; the login state is kept.
    public mutating func endOfInput(at receivedAt: Int64, into out: inout [Output]) {
        for event in splitter.finish() {
            handle(event, at: receivedAt, into: &out)
        }
    }

    /// Binds the session to a device known from a persisted UDP binding, at its next frame.
    public mutating func resume(deviceID: String) {
        guard session.deviceID == nil else { return }
        pendingResume = deviceID
    }

    /// Held frames that aged past their bound; call periodically.
    public mutating func tick(now: Int64, into out: inout [Output]) {
        session.expireHeld(now: now, into: &actions)
        perform(into: &out)
    }

    /// The connection is gone: flush the splitter, dead-letter what is held, end the session.
    public mutating func close(at now: Int64, into out: inout [Output]) {
        endOfInput(at: now, into: &out)
        session.close(into: &actions)
        perform(into: &out)
    }

    private mutating func handle(_ event: SplitterEvent, at receivedAt: Int64, into out: inout [Output]) {
        switch event {
        case .frame(let bytes, let index):
            if source.transport != .udp, let chosenProtocol, chosenProtocol != index {
                let chosen = TrackerProtocols.all[chosenProtocol].name
                session.reject(
                    FrameRejection(
                        reason: .protocolSwitch, raw: bytes,
                        detail: "a \(TrackerProtocols.all[index].name) frame on a connection speaking \(chosen)"
                    ),
                    at: receivedAt, into: &actions
                )
                break
            }
            let proto = TrackerProtocols.all[index]
            do {
                let message = try proto.decode(bytes)
                if chosenProtocol == nil || source.transport == .udp {
                    chosenProtocol = index
                    source = source.speaking(proto.name)
                }
                if let pending = pendingResume {
                    pendingResume = nil
                    if message.deviceID == nil { session.resume(deviceID: pending, into: &actions) }
                }
                session.receive(message, at: receivedAt, into: &actions)
                perform(into: &out)
                // After the session's actions: a frame that names its device is already bound.
                out.append(.decoded(message, deviceID: session.deviceID))
                // Never more bytes out than came in: a forged UDP source cannot use the answer
                // to reflect more traffic at a victim than it sent (`*HQ,1,V1#` would draw 27).
                if let deviceID = session.deviceID, message.deviceID == nil || message.deviceID == deviceID,
                    let answer = proto.answer(
                        to: message, deviceID: deviceID, now: CivilDateTime(secondsSinceEpoch: Self.seconds(receivedAt))),
                    answer.count <= bytes.count
                {
                    out.append(.answer(answer))
                }
            } catch {
                session.reject(error, at: receivedAt, into: &actions)
            }
        case .rejected(let rejection):
            session.reject(rejection, at: receivedAt, into: &actions)
        }
        perform(into: &out)
    }

    private static func seconds(_ milliseconds: Int64) -> Int64 {
        milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
    }

    private mutating func perform(into out: inout [Output]) {
        for action in actions {
            switch action {
            case .loggedIn(let id, let previous):
                out.append(.loggedIn(deviceID: id, previous: previous))
            case .ended(let id):
                out.append(.ended(deviceID: id))
            case .deliver(let frame, let id, let receivedAt):
                messages(for: frame, deviceID: id, receivedAt: receivedAt, into: &out)
                if context.publishRaw {
                    out.append(.publish(context.normalizer.raw(frame, deviceID: id)))
                }
            case .heartbeat(let frame, let id, _):
                if context.publishRaw, let id {
                    out.append(.publish(context.normalizer.raw(frame, deviceID: id)))
                }
            case .deadLetter(let rejection, let id, let receivedAt):
                out.append(.publish(context.normalizer.deadLetter(
                    rejection, deviceID: id, receivedAt: receivedAt, source: source
                )))
            }
        }
        actions.removeAll(keepingCapacity: true)
    }

    /// The payloads of one frame: its content's message, then the alarms it raises beside it.
    private func messages(for frame: DeviceMessage, deviceID: String, receivedAt: Int64, into out: inout [Output]) {
        let settings = context.devices[deviceID]
        let normalizer = context.normalizer
        switch (frame.content, frame.fix) {
        case (.heartbeat, _), (.commandReply, _), (.position, nil), (.history, nil), (.alarm, nil):
            break
        case (.position, let fix?):
            var (message, fixTime) = normalizer.position(
                frame, fix: fix, deviceID: deviceID, topic: .position,
                settings: settings, receivedAt: receivedAt, source: source
            )
            message.retain = fix.valid && context.retained.shouldRetain(deviceID: deviceID, fixTime: fixTime)
            out.append(.publish(message))
        case (.history, let fix?):
            out.append(.publish(normalizer.position(
                frame, fix: fix, deviceID: deviceID, topic: .history,
                settings: settings, receivedAt: receivedAt, source: source
            ).message))
        case (.alarm(let alarm), let fix?):
            out.append(.publish(normalizer.alarm(
                frame, alarm: alarm, fix: fix, deviceID: deviceID,
                settings: settings, receivedAt: receivedAt, source: source
            )))
        case (.event(let kind), _):
            out.append(.publish(normalizer.event(
                frame, kind: kind, deviceID: deviceID, settings: settings, receivedAt: receivedAt, source: source
            )))
        }
        if let fix = frame.fix {
            for alarm in frame.alarms {
                out.append(.publish(normalizer.alarm(
                    frame, alarm: alarm, fix: fix, deviceID: deviceID,
                    settings: settings, receivedAt: receivedAt, source: source
                )))
            }
        }
    }
}
