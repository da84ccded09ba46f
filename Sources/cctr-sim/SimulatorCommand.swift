import ArgumentParser
import NIOCore
import NIOPosix

/// `cctr-sim`: simulated Carscop trackers for demos and load tests.
@main
struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cctr-sim",
        abstract: "Simulate CCTR trackers (carscop and H02) sending to a server over TCP and UDP.",
        discussion: """
            Each device logs in with UB05 and then sends live positions (UD00) along a route \
            near a real city, with alarms (UA01), stored records (UD04), no-fix frames and \
            heartbeats (UB00) as configured. The odometer of every frame with a status tail \
            carries the device's sequence number (1, 2, 3, ...), so a subscriber can count \
            loss, duplicates and reordering; --send-log records when each was sent. Devices \
            answer AP00 from the server with a UB04 position. H02 devices (--h02) name themselves \
            in every V1 position (or binary frame), send LINK heartbeats and SOS in the status \
            word, and answer S20, SCF and S71 with a V4 reply. A report is printed at exit.
            """)

    @Option(help: "Server host.")
    var host = "127.0.0.1"

    @Option(help: "Server port.")
    var port = 8888

    @Option(name: .customLong("tcp"), help: "Devices that connect over TCP.")
    var tcpDevices = 3

    @Option(name: .customLong("udp"), help: "Devices that send over UDP, one socket each.")
    var udpDevices = 0

    @Option(
        name: .customLong("h02"),
        help: "H02 devices besides the carscop ones: alternately TCP and UDP, every third sending binary frames.")
    var h02Devices = 0

    @Option(help: "Aggregate frames per second across all devices (instead of --interval).")
    var rate: Double?

    @Option(help: "Seconds between frames of one device (default 5).")
    var interval: Double?

    @Option(help: "Seconds to run (default: until SIGINT or SIGTERM).")
    var duration: Double?

    @Option(help: "Send a UB00HSO heartbeat after every K positions (0: never).")
    var heartbeatEvery = 10

    @Option(help: "Probability that a tick sends a UA01 alarm.")
    var alarmProbability = 0.02

    @Option(help: "Probability that a tick sends a UD04 stored record dated in the past.")
    var historyProbability = 0.02

    @Option(name: .customLong("nofix-probability"), help: "Probability that a position has no fix (V, filler, no tail).")
    var noFixProbability = 0.02

    @Option(help: "Device id prefix, [A-Z0-9]; ids are the prefix plus a zero-padded number, 15 characters.")
    var idPrefix = "SIM"

    @Option(help: "Seed for routes and events (default: random, printed in the report).")
    var seed: UInt64?

    @Option(help: "New connections per second while devices start.")
    var connectRate = 500.0

    @Option(help: ArgumentHelp(
        "Spread TCP devices over N local addresses 127.0.0.1, 127.0.0.2, … (one address reaches one port from about 28,000 source ports).",
        valueName: "N"))
    var sourceAddresses = 1

    @Flag(help: "On every other device, send one position before each UB05 login, as real units do.")
    var holdBeforeLogin = false

    @Option(help: "Write 'device_id seq unix_time_ns' for every frame with a sequence number sent.")
    var sendLog: String?

    @Option(help: "Print N generated frames to stdout, one a line, and exit without connecting.")
    var dryRun: Int?

    @Option(help: "Simulated clock start for --dry-run, Unix seconds (default: now).")
    var startTime: Int64?

    @Option(help: "Report printed at exit: text or json.")
    var report: SimReport.Format = .text

    @Flag(help: "Log every connection event and downlink message to stderr.")
    var verbose = false

    func validate() throws {
        guard tcpDevices >= 0, udpDevices >= 0, h02Devices >= 0, tcpDevices + udpDevices + h02Devices > 0 else {
            throw ValidationError("--tcp, --udp and --h02 must not be negative, and at least one device is needed.")
        }
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1-65535.") }
        if rate != nil && interval != nil { throw ValidationError("Give --rate or --interval, not both.") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be positive.") }
        if let interval, !(interval > 0) { throw ValidationError("--interval must be positive.") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be positive.") }
        guard connectRate > 0 else { throw ValidationError("--connect-rate must be positive.") }
        guard (1...254).contains(sourceAddresses) else { throw ValidationError("--source-addresses must be 1-254.") }
        guard heartbeatEvery >= 0 else { throw ValidationError("--heartbeat-every must not be negative.") }
        for (name, value) in [
            ("--alarm-probability", alarmProbability), ("--history-probability", historyProbability),
            ("--nofix-probability", noFixProbability),
        ] where !(0...1).contains(value) {
            throw ValidationError("\(name) must be between 0 and 1.")
        }
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        guard idPrefix.allSatisfy({ allowed.contains($0) }) else {
            throw ValidationError("--id-prefix may only hold A-Z and 0-9.")
        }
        let digits = TrackerSettings.idLength - idPrefix.count
        guard digits >= 1, String(tcpDevices + udpDevices).count <= digits else {
            throw ValidationError("--id-prefix leaves too few digits for \(tcpDevices + udpDevices) devices.")
        }
        if let dryRun, dryRun < 0 { throw ValidationError("--dry-run must not be negative.") }
    }

    func run() async throws {
        let deviceCount = tcpDevices + udpDevices + h02Devices
        let intervalSeconds = rate.map { Double(deviceCount) / $0 } ?? interval ?? 5
        let settings = TrackerSettings(
            idPrefix: idPrefix, seed: seed ?? UInt64.random(in: 0...UInt64.max),
            heartbeatEvery: heartbeatEvery, alarmProbability: alarmProbability,
            historyProbability: historyProbability, noFixProbability: noFixProbability,
            holdBeforeLogin: holdBeforeLogin)

        if let dryRun {
            let start = startTime.map { $0 * 1_000_000_000 } ?? WallClock.nowNanoseconds()
            DryRun(
                tcpDevices: tcpDevices, udpDevices: udpDevices, deviceCount: deviceCount, settings: settings, intervalSeconds: intervalSeconds,
                connectRate: connectRate, startNanoseconds: start
            ).run(count: dryRun) { print($0) }
            return
        }
        try await live(settings: settings, intervalSeconds: intervalSeconds)
    }

    private func live(settings: TrackerSettings, intervalSeconds: Double) async throws {
        let log = ConsoleLog(debugEnabled: verbose)
        let openFiles = FileDescriptorLimit.raiseToHardLimit()
        if openFiles < UInt64(tcpDevices + udpDevices + h02Devices + 64) {
            log.warning("open-file limit \(openFiles) is below the \(tcpDevices + udpDevices + h02Devices) sockets needed")
        }
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let counters = SimCounters()
        let sendLog = try sendLog.map { try SendLog(path: $0) }
        let stop = StopSignal(eventLoop: group.next())
        let signalSources = stop.fireOnTerminationSignals()
        if let duration {
            group.next().scheduleTask(in: .nanoseconds(Int64(duration * 1e9))) { stop.fire() }
        }
        let simulator = Simulator(
            tcpDevices: tcpDevices, udpDevices: udpDevices, h02Devices: h02Devices, interval: .nanoseconds(Int64(intervalSeconds * 1e9)),
            connectRate: connectRate, settings: settings,
            environment: SimulatedDevice.Environment(
                address: address, counters: counters, sendLog: sendLog, log: log,
                sourceAddresses: sourceAddresses == 1 ? [] : try (1...sourceAddresses).map { try SocketAddress(ipAddress: "127.0.0.\($0)", port: 0) }),
            group: group)
        log.info(
            "\(tcpDevices) tcp + \(udpDevices) udp carscop and \(h02Devices) h02 devices to \(address), one frame every \(intervalSeconds) s each, seed \(settings.seed)"
        )

        let clock = ContinuousClock()
        let started = clock.now
        simulator.start()
        try await stop.wait()
        let elapsed = clock.now - started
        try await simulator.stop()
        try await group.shutdownGracefully()
        try sendLog?.close()
        signalSources.forEach { $0.cancel() }

        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let summary = SimReport(
            tally: counters.snapshot, seed: settings.seed, tcpDevices: tcpDevices, udpDevices: udpDevices,
            elapsedSeconds: seconds)
        print(try summary.render(report))
    }
}

extension SimReport.Format: ExpressibleByArgument {}
