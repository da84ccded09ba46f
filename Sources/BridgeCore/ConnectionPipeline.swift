import CarscopCodec

/// Everything one connection needs to turn bytes into publications: splitter, decoder,
/// session and normalizer in one value. `serve` keeps one per TCP connection or UDP source
/// address; `decode` keeps one for stdin. The same code path is what makes `decode`'s output
/// match what `serve` publishes.
public struct ConnectionPipeline: Sendable {
    /// What the pipeline asks its owner to do or count.
    public enum Output: Sendable, Equatable {
        case publish(OutboundMessage)
        case loggedIn(deviceID: String, previous: String?)
        case ended(deviceID: String)
        /// A frame decoded (heartbeats included), for `cctr_frames_total{type}` and for
        /// commands waiting for a reply; `deviceID` is nil before the login.
        case decoded(CarscopFrame, deviceID: String?)
    }

    /// Settings shared by all connections of a process.
    public struct Context: Sendable {
        public var normalizer: Normalizer
        public var devices: DeviceSettingsTable
        public var limits: DeviceSession.Limits
        public var maxFrameBytes: Int
        public var publishRaw: Bool
        public var retained: RetainedPositions
        public var isAllowed: @Sendable (String) -> Bool

        public init(
            normalizer: Normalizer, devices: DeviceSettingsTable = DeviceSettingsTable(),
            limits: DeviceSession.Limits = DeviceSession.Limits(), maxFrameBytes: Int = 1024,
            publishRaw: Bool = false, retained: RetainedPositions = RetainedPositions(),
            isAllowed: @escaping @Sendable (String) -> Bool = { _ in true }
        ) {
            self.normalizer = normalizer
            self.devices = devices
            self.limits = limits
            self.maxFrameBytes = maxFrameBytes
            self.publishRaw = publishRaw
            self.retained = retained
            self.isAllowed = isAllowed
        }
    }

    public let context: Context
    public let source: PayloadSource
    public private(set) var splitter: FrameSplitter
    public private(set) var session: DeviceSession
    private var actions: [DeviceSession.Action] = []

    public init(context: Context, source: PayloadSource) {
        self.context = context
        self.source = source
        splitter = FrameSplitter(maxFrameBytes: context.maxFrameBytes)
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

    /// Binds a new session to a device known from a persisted UDP binding.
    public mutating func resume(deviceID: String, into out: inout [Output]) {
        session.resume(deviceID: deviceID, into: &actions)
        perform(into: &out)
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
        case .frame(let bytes):
            do {
                let frame = try CarscopDecoder.decode(bytes)
                session.receive(frame, at: receivedAt, into: &actions)
                perform(into: &out)
                // After the session's actions: a login's own frame already names its device.
                out.append(.decoded(frame, deviceID: session.deviceID))
            } catch {
                session.reject(error, at: receivedAt, into: &actions)
            }
        case .rejected(let rejection):
            session.reject(rejection, at: receivedAt, into: &actions)
        }
        perform(into: &out)
    }

    private mutating func perform(into out: inout [Output]) {
        for action in actions {
            switch action {
            case .loggedIn(let id, let previous):
                out.append(.loggedIn(deviceID: id, previous: previous))
            case .ended(let id):
                out.append(.ended(deviceID: id))
            case .deliver(let frame, let id, let receivedAt):
                if let message = message(for: frame, deviceID: id, receivedAt: receivedAt) {
                    out.append(.publish(message))
                }
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

    private func message(for frame: CarscopFrame, deviceID: String, receivedAt: Int64) -> OutboundMessage? {
        let settings = context.devices[deviceID]
        let normalizer = context.normalizer
        switch frame.content {
        case .heartbeat:
            return nil
        case .login(_, let gps), .position(let gps, _):
            var (message, fixTime) = normalizer.position(
                frame, gps: gps, deviceID: deviceID, topic: .position,
                settings: settings, receivedAt: receivedAt, source: source
            )
            message.retain = gps.valid && context.retained.shouldRetain(deviceID: deviceID, fixTime: fixTime)
            return message
        case .history(let gps):
            return normalizer.position(
                frame, gps: gps, deviceID: deviceID, topic: .history,
                settings: settings, receivedAt: receivedAt, source: source
            ).message
        case .alarm(let code, let label, let gps):
            return normalizer.alarm(
                frame, code: code, label: label, gps: gps, deviceID: deviceID,
                settings: settings, receivedAt: receivedAt, source: source
            )
        case .unknown(let body):
            return normalizer.event(
                frame, body: body, kind: .unknownFrame, deviceID: deviceID,
                settings: settings, receivedAt: receivedAt, source: source
            )
        }
    }
}
