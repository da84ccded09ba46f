import BridgeCore
import Logging
import Mosquitto
import NIOCore
import NIOPosix
import ServiceLifecycle
import Spool
import TrackerCodec
import Synchronization

/// One running bridge: device listeners, the publish pipeline (spool + MQTT), the device
/// hub, and the health endpoint, built from `BridgeOptions`.
///
/// `run()` runs until SIGTERM/SIGINT (when `handleSignals`) or `shutdown()`, then shuts down
/// in the contract's order: stop accepting and close device sessions (their `offline` is
/// published), wait for publishes in flight (the rest stays in the spool), publish the bridge
/// `offline` if connected, disconnect. All of it shares one `--shutdown-timeout`: systemd and
/// Kubernetes SIGKILL after their own grace period, and a hung broker (one that stopped
/// reading, or a black-holed network) must not keep the bridge past it. The last log line
/// says what was not published: left in the spool, or, without one, lost and how many.
public final class Bridge: Sendable {
    public let options: BridgeOptions
    public let metrics: BridgeMetrics
    private let logger: Logger
    private let topics: TopicLayout
    private let client: MosquittoClient
    /// The client's settings, for the URL of the broker connected to (info payload, `/readyz`).
    private let mqtt: MosquittoClient.Configuration
    private let spool: Spool
    private let pipeline: PublishPipeline
    private let hub: DeviceHub
    private let listeners: TrackerListeners
    private let bindings: UDPBindings?
    private let group: MultiThreadedEventLoopGroup
    private let health: HealthServer
    private let board: StatusBoard
    private let startedAt: Int64
    private let state = Mutex(RunState())
    /// Which filter takes commands; decided at every broker connection (event consumer only).
    private let commandSubscription: Mutex<CommandSubscription>
    private let started = Latch()
    /// Opened once the status and instance-state subscriptions exist: the command
    /// subscription comes after them, so that the retained statuses (who holds which device)
    /// reach the ownership view before the first command does.
    private let statusesSubscribed = Latch()
    private let shutdownRequested = Latch()
    private let listening = AtomicFlag()

    private struct RunState: Sendable {
        var boundEndpoints: [ListenAddress] = []
        var healthPort: Int?
        var healthChannel: (any Channel)?
        /// When `stop()` began, for the final log line.
        var stopStartedAt: ContinuousClock.Instant?
    }

    public init(options: BridgeOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        startedAt = WallClock.milliseconds()
        topics = try TopicLayout(base: options.topicBase, instance: options.instance)
        commandSubscription = Mutex(CommandSubscription(base: topics.base, shareGroup: options.shareGroup))
        board = StatusBoard(forgetTopic: topics.forget)
        metrics = BridgeMetrics()

        var mqtt = options.mqttConfiguration(clientID: "cctr-bridge-\(options.instance)")
        mqtt.lastWill = .init(topic: topics.bridge(.state), payload: Array("offline".utf8), qos: 1, retain: true)
        mqtt.shutdownDrainTimeout = .seconds(1)
        self.mqtt = mqtt
        client = try MosquittoClient(configuration: mqtt, logger: logger)

        let storage: SpoolConfiguration.Storage
        if let directory = options.spoolDir {
            storage = .directory(directory)
            bindings = UDPBindings(directory: directory)
        } else {
            storage = .memory
            bindings = nil
            logger.warning("no --spool-dir: messages wait in a bounded memory queue that a restart loses")
        }
        do throws(SpoolError) {
            spool = try Spool(
                configuration: SpoolConfiguration(
                    storage: storage,
                    syncMode: options.spoolSync,
                    syncInterval: options.spoolSyncInterval,
                    maxBytes: options.spoolMaxBytes,
                    fullPolicy: options.spoolFull
                ),
                logger: logger
            )
        } catch {
            throw StartupError.spool(error, directory: options.spoolDir ?? "")
        }
        let stageTrace = options.traceStages ? StageTrace() : nil
        pipeline = PublishPipeline(
            spool: spool, client: client, metrics: metrics, logger: logger, window: options.mqttMaxInflight, trace: stageTrace)
        hub = DeviceHub(
            topics: topics, statusIntervalMilliseconds: options.statusInterval.wholeMilliseconds,
            sink: StatusBoard.Tap(board: board, sink: pipeline), metrics: metrics, logger: logger
        )
        let retained = RetainedPositions()
        for observer in try BridgeFeatures.observers(options: options, topics: topics, retained: retained, logger: logger) {
            hub.addObserver(observer)
        }
        hub.addObserver(board)
        group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let isAllowed: @Sendable (String) -> Bool
        if let allowlist = try Allowlist.load(path: options.allowlist) {
            isAllowed = { allowlist.contains($0) }
        } else {
            isAllowed = { _ in true }
        }
        let context = ConnectionPipeline.Context(
            normalizer: Normalizer(topics: topics),
            devices: options.deviceSettings,
            limits: DeviceSession.Limits(heldFramesMax: options.heldFramesMax, heldFramesMaxAge: options.heldFramesAge.wholeMilliseconds),
            codec: CodecOptions(maxFrameBytes: options.maxFrameBytes, h02BinaryLength: options.h02BinaryLength),
            publishRaw: options.publishRaw, retained: retained,
            isAllowed: isAllowed
        )
        listeners = TrackerListeners(
            endpoints: options.listen.flatMap(\.split), group: group, context: context, hub: hub,
            settings: ListenerSettings(
                idleTimeout: options.idleTimeout.wholeMilliseconds, frameRateLimit: options.frameRateLimit,
                maxConnections: options.maxConnections, maxConnectionsPerIP: options.maxConnectionsPerIP, stageTrace: stageTrace
            ),
            instance: options.instance, bindings: bindings, logger: logger
        )
        if options.httpToken == nil, !options.metricsListen.isLoopback {
            logger.warning("the status page and /api/ are open to anyone who reaches --metrics-listen: set --http-token", metadata: [
                "metrics": "\(options.metricsListen.hostAndPort)",
            ])
        }
        let client = self.client
        let listening = self.listening
        let pipeline = self.pipeline
        let spool = self.spool
        let startedAt = self.startedAt
        let facts: @Sendable () -> StatusFacts = { [mqtt] in
            let statistics = spool.statistics
            return StatusFacts(
                instance: options.instance, version: BridgeVersion.current, startedAt: startedAt,
                brokerURL: mqtt.url(of: client.currentBroker).description,
                publishesInFlight: pipeline.publishesInFlight, spoolBytes: statistics.bytes,
                spoolPending: statistics.pendingRecords, spoolOldestAcceptedAt: pipeline.oldestPendingAcceptedAt(startedAt: startedAt))
        }
        health = HealthServer(
            host: options.metricsListen.host, port: options.metricsListen.port, metrics: metrics, group: group,
            logger: logger, refreshMetrics: { pipeline.reportSpoolStatistics() }, stageTrace: stageTrace,
            status: StatusEndpoints(api: StatusAPI(board: board, facts: facts), token: options.httpToken)
        ) { [mqtt] in
            Self.readiness(listening: listening.value, client: client, mqtt: mqtt)
        }
    }

    /// `/readyz`: ready with the broker URL and protocol in use; otherwise why not, in the
    /// client's words for the last failure (connection refused, TLS reason, bad credentials,
    /// not authorized), so the probe's output alone points at the fix.
    private static func readiness(
        listening: Bool, client: MosquittoClient, mqtt: MosquittoClient.Configuration
    ) -> (ready: Bool, detail: String) {
        guard listening else { return (false, "listeners not up") }
        guard let broker = client.connectedBroker, let version = client.protocolVersion else {
            let reason = client.lastFailure?.message ?? "connecting"
            return (false, "broker not connected: \(reason)")
        }
        return (true, "ready: connected to \(mqtt.url(of: broker)) over MQTT \(version)")
    }

    /// The device endpoints actually bound (ports chosen by the system when 0 was asked);
    /// valid once `waitUntilStarted()` returned.
    public var boundEndpoints: [ListenAddress] { state.withLock { $0.boundEndpoints } }

    /// The health/metrics port actually bound.
    public var healthPort: Int? { state.withLock { $0.healthPort } }

    /// Returns once the listeners and the health endpoint are bound, or when the waiting task
    /// is cancelled.
    public func waitUntilStarted() async {
        try? await started.wait()
    }

    /// Starts the graceful shutdown (as SIGTERM would).
    public func shutdown() {
        shutdownRequested.open()
    }

    /// Runs until shutdown. With `handleSignals`, SIGTERM and SIGINT start the shutdown.
    public func run(handleSignals: Bool = true) async throws {
        let core = BridgeCoreService(bridge: self)
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: client),
                .init(service: core, successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            logger: logger
        ))
        try await group.run()
        try await self.group.shutdownGracefully()
        logShutdownOutcome()
    }

    // MARK: - The core service

    fileprivate func runCore() async throws {
        try await subscribeStatuses()
        let bound = try await listeners.start()
        let healthChannel: any Channel
        do {
            healthChannel = try await health.bind()
        } catch {
            throw StartupError.bind(error, option: "metrics-listen", address: options.metricsListen.hostAndPort)
        }
        state.withLock {
            $0.boundEndpoints = bound
            $0.healthChannel = healthChannel
            $0.healthPort = healthChannel.localAddress?.port
        }
        board.listening(on: bound.map(\.description))
        listening.set(true)
        started.open()
        logger.info("cctr-bridge started", metadata: [
            "instance": "\(options.instance)", "listeners": "\(bound.map(\.description))",
            "metrics": "\(options.metricsListen.hostAndPort)",
        ])
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try? await self.pipeline.run() }
            tasks.addTask { await self.consumeEvents() }
            tasks.addTask { await self.tickLoop() }
            await withGracefulShutdownHandler {
                // A cancelled run shuts down as a requested one does.
                try? await self.shutdownRequested.wait()
            } onGracefulShutdown: {
                self.shutdown()
            }
            await stop()
            tasks.cancelAll()
        }
    }

    private func stop() async {
        let startedAt = ContinuousClock.now
        let deadline = startedAt.advanced(by: options.shutdownTimeout)
        state.withLock { $0.stopStartedAt = startedAt }
        // The client stops after this service (see `run`); it must end by the same deadline.
        client.setShutdownDeadline(deadline)
        logger.info("shutting down", metadata: ["shutdown_timeout_ms": "\(options.shutdownTimeout.wholeMilliseconds)"])
        listening.set(false)
        await listeners.stop()
        hub.shutdown(now: WallClock.milliseconds())
        await pipeline.stopAccepting()
        _ = await pipeline.drain(until: deadline)
        if client.isConnected {
            await publishBridgeOffline(before: deadline)
        }
        await pipeline.close()
        bindings?.flush()
        let healthChannel = state.withLock { $0.healthChannel }
        try? await healthChannel?.close()
    }

    /// The retained `offline`, awaited until `deadline` at most, and sent even when the drain
    /// used the whole budget: libmosquitto writes it before the DISCONNECT, so a slow but
    /// working broker still gets it. A hung broker never acknowledges it; once the connection
    /// closes without DISCONNECT it publishes the last will, which is the same `offline`.
    private func publishBridgeOffline(before deadline: ContinuousClock.Instant) async {
        let acknowledged = Latch()
        client.publish(topic: topics.bridge(.state), payload: Array("offline".utf8), qos: 1, retain: true) { _ in
            acknowledged.open()
        }
        if !(await acknowledged.wait(until: deadline)) {
            logger.warning("the broker did not acknowledge the bridge offline state before the shutdown timeout")
        }
    }

    /// The last line of a run: how long the shutdown took and what was not published, in
    /// words an operator can act on. Without a spool directory the unpublished messages were
    /// in memory only, so they are lost, and the count says how many.
    private func logShutdownOutcome() {
        guard let startedAt = state.withLock({ $0.stopStartedAt }) else { return }
        let elapsed = ContinuousClock.now - startedAt
        let elapsedMilliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        let statistics = spool.statistics
        let lostBeforeSpool = pipeline.lostBeforeSpool
        var metadata: Logger.Metadata = [
            "shutdown_ms": "\(elapsedMilliseconds)", "shutdown_timeout_ms": "\(options.shutdownTimeout.wholeMilliseconds)",
        ]
        guard let directory = options.spoolDir else {
            let lost = statistics.pendingRecords + lostBeforeSpool
            guard lost > 0 else { return logger.info("shut down; every message was published", metadata: metadata) }
            metadata["lost"] = "\(lost)"
            logger.error("shut down with \(lost) unpublished messages lost: without --spool-dir they were held in memory only", metadata: metadata)
            return
        }
        guard statistics.pendingRecords > 0 || lostBeforeSpool > 0 else {
            return logger.info("shut down; every message was published", metadata: metadata)
        }
        metadata["spool.pending"] = "\(statistics.pendingRecords)"
        metadata["spool.dir"] = "\(directory)"
        var losses = ""
        if lostBeforeSpool > 0 {
            metadata["lost"] = "\(lostBeforeSpool)"
            losses += "; \(lostBeforeSpool) more never reached the spool and are lost"
        }
        // What a full disk never took was held in memory only: it dies with the process.
        if statistics.memoryBytes > 0 {
            metadata["spool.memory_bytes"] = "\(statistics.memoryBytes)"
            losses += "; \(statistics.memoryBytes) bytes of them could not be written (spool disk full) and are lost"
        }
        logger.warning("shut down with \(statistics.pendingRecords) unpublished messages left in the spool, published at the next start\(losses)", metadata: metadata)
    }

    private func subscribeStatuses() async throws {
        try await client.subscribe("\(topics.base)/+/status", qos: 1)
        try await client.subscribe("\(topics.base)/bridge/+/state", qos: 1)
        for filter in hub.subscriptions {
            try await client.subscribe(filter, qos: 1)
        }
        statusesSubscribed.open()
    }

    /// Drives the observers' deadlines (command expiry) about once a second, and samples the
    /// spool for the status page's oldest record age.
    private func tickLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let now = WallClock.milliseconds()
            pipeline.sampleSpool(now: now)
            hub.notify(.tick(now: now))
        }
    }

    private func consumeEvents() async {
        for await event in client.events {
            switch event {
            case .connected(let version, _, let sharedSubscriptionAvailable):
                logger.info("broker connected", metadata: [
                    "mqtt.broker": "\(client.connectedBroker.map { mqtt.url(of: $0).description } ?? "none")",
                    "mqtt.protocol": "\(version)",
                ])
                pipeline.connectionChanged(connected: true)
                board.brokerChanged(connected: true, mqttProtocol: version.description, now: WallClock.milliseconds())
                try? await statusesSubscribed.wait()
                let routing = await subscribeCommands(mqtt5: version == .v5, sharedSubscriptionAvailable: sharedSubscriptionAvailable)
                publishBridgeState(version: version, routing: routing)
                hub.republish()
                hub.notify(.brokerConnected(routing: routing, now: WallClock.milliseconds()))
            case .disconnected(let reason):
                logger.warning("broker disconnected", metadata: ["reason": "\(reason.map { "\($0)" } ?? "clean")"])
                pipeline.connectionChanged(connected: false)
                board.brokerChanged(connected: false, mqttProtocol: nil, now: WallClock.milliseconds())
            case .message(let message):
                handleIncoming(message)
            }
        }
    }

    /// `host:port` of the health endpoint as bound (the port chosen when 0 was asked).
    private var metricsAddress: String {
        var address = options.metricsListen
        address.port = healthPort ?? address.port
        return address.hostAndPort
    }

    /// Subscribes the command filter for this connection (`CommandSubscription`): `$share`
    /// where the broker offers it, falling back to the plain filter when the broker refuses it
    /// in its SUBACK or closes the connection right after the SUBSCRIBE. Logs the mode.
    private func subscribeCommands(mqtt5: Bool, sharedSubscriptionAvailable: Bool) async -> RoutingMode {
        var actions = commandSubscription.withLock { $0.connected(mqtt5: mqtt5, sharedSubscriptionAvailable: sharedSubscriptionAvailable) }
        let sharedFilter = commandSubscription.withLock { $0.sharedFilter }
        while !actions.isEmpty {
            switch actions.removeFirst() {
            case .unsubscribe(let filter):
                try? await client.unsubscribe(filter)
            case .subscribe(let filter) where filter == sharedFilter:
                do {
                    try await client.subscribe(filter, qos: 1)
                    if !client.isConnected {
                        actions = commandSubscription.withLock { $0.sharedRefused("the broker closed the connection after the $share SUBSCRIBE") }
                    }
                } catch {
                    actions = commandSubscription.withLock { $0.sharedRefused("the broker refused the $share SUBSCRIBE: \(error)") }
                }
            case .subscribe(let filter):
                do {
                    try await client.subscribe(filter, qos: 1)
                } catch {
                    logger.error("cannot subscribe to commands", metadata: ["mqtt.filter": "\(filter)", "mqtt.error": "\(error)"])
                }
            }
        }
        let (mode, line) = commandSubscription.withLock { ($0.mode ?? .broadcast, $0.description) }
        logger.info("\(line)")
        return mode
    }

    /// The retained bridge `state` and `info`, sent directly (not through the spool): they
    /// describe this connection and are re-sent on every reconnect.
    /// A connection already lost again has no broker to name; its successor's `.connected`
    /// publishes them.
    private func publishBridgeState(version: MQTTProtocolVersion, routing: RoutingMode) {
        guard let broker = client.connectedBroker else { return }
        let info = BridgeInfo(
            version: BridgeVersion.current, instance: options.instance, startedAt: startedAt,
            listeners: boundEndpoints.map(\.description),
            metrics: "http://\(metricsAddress)", mqttProtocol: version.description,
            broker: mqtt.url(of: broker).description, routing: routing
        )
        announce()
        client.publish(topic: topics.bridge(.info), payload: info.json(), qos: 1, retain: true, completion: reportStatePublish)
    }

    /// Publishes this instance's retained `state` `online`: at connect, and again when another
    /// instance comes online (so it learns of this one without retained messages).
    private func announce() {
        client.publish(topic: topics.bridge(.state), payload: Array("online".utf8), qos: 1, retain: true, completion: reportStatePublish)
    }

    private var reportStatePublish: @Sendable (Result<Void, MosquittoError>) -> Void {
        { [logger] result in
            if case .failure(let error) = result {
                logger.warning("bridge state publish failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Statuses and instance states feed the hub's ownership view; every message then goes
    /// to the observers.
    private func handleIncoming(_ message: IncomingMessage) {
        let now = WallClock.milliseconds()
        if let deviceID = topics.deviceID(statusTopic: message.topic) {
            hub.statusReceived(deviceID: deviceID, payload: message.payload, retained: message.retain, now: now)
        } else if let member = topics.instance(stateTopic: message.topic),
            hub.memberState(member, online: message.payload.elementsEqual("online".utf8), now: now)
        {
            announce()
        }
        hub.notify(.brokerMessage(message, now: now))
    }
}

/// Runs the bridge's own work inside the `ServiceGroup`, after the MQTT client.
private struct BridgeCoreService: Service {
    let bridge: Bridge

    func run() async throws {
        try await bridge.runCore()
    }
}
