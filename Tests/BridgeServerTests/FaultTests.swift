import BridgeServer
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension Tag {
    /// Fault injection against a real broker and bridge; each test takes 5-30 s. Skip with
    /// `swift test --skip FaultTests`.
    @Tag static var fault: Self
}

/// Faults with a real mosquitto, real sockets on loopback and, where the bridge itself must
/// die, the built `cctr-bridge` binary as a child process. Frames carry per-device sequence
/// numbers in the odometer field; `DeliveryReport` de-duplicates by payload `id` and checks
/// nothing is missing and each device's order holds.
@Suite(.serialized, .tearsDownFixtures, .tags(.fault)) struct FaultTests {
    /// A subscriber whose broker session outlives broker restarts (persistent session, and the
    /// broker saves it to disk), so messages published while it reconnects are not missed.
    static func persistentSubscriber(port: Int, id: String = "fault-observer") async throws -> MosquittoSubscriber {
        try await MosquittoSubscriber(port: port, topics: ["cctr/#"], persistentSessionID: id)
    }

    static func waitUntil(_ timeout: Duration, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    static func spoolDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("cctr-fault-spool-\(UUID().uuidString)")
    }

    // MARK: - Broker faults

    /// 3 devices stream 50 frames/s each; the broker (with persistence) is SIGKILLed after 2 s
    /// and restarted 1 s later. Every frame must arrive, in order per device.
    @Test func brokerKilledDuringStreamLosesNothing() async throws {
        let fixture = try await BridgeFixture.start(persistence: true)
        let subscribedAt = Date()
        var observer = try await Self.persistentSubscriber(port: fixture.broker.port)
        // The broker saves the observer's session (autosave every second) before it is killed.
        let database = fixture.broker.directory.appendingPathComponent("mosquitto.db").path
        #expect(try await eventually {
            let modified = try? FileManager.default.attributesOfItem(atPath: database)[.modificationDate] as? Date
            return modified.map { $0 > subscribedAt } ?? false
        })
        let fleet = SequencedFleet(count: 3, prefix: "BRK")
        try fleet.connect(port: fixture.tcpPort)
        var earlier: [MosquittoSubscriber.Message] = []
        for round in 0..<300 {
            if round == 100 { fixture.broker.kill() }
            if round == 150 {
                try fixture.broker.start()
                earlier = observer.messages
                observer.stop()
                observer = try await Self.persistentSubscriber(port: fixture.broker.port)
            }
            fleet.sendRound()
            try await Task.sleep(for: .milliseconds(20))  // the pace under test: 50 frames/s per device
        }
        let sent = fleet.sent
        let current = observer
        _ = try await Self.waitUntil(.seconds(20)) {
            DeliveryReport(messages: earlier + current.messages, sent: sent).missing.isEmpty
        }
        let report = DeliveryReport(messages: earlier + observer.messages, sent: sent)
        print("broker SIGKILL: \(report)")
        #expect(report.sent == 900)
        #expect(report.missing.isEmpty, "\(report.missing)")
        #expect(report.outOfOrder.isEmpty, "\(report.outOfOrder)")
    }

    /// The broker is down when the bridge starts: the bridge serves devices anyway, spools
    /// their frames and publishes them all once the broker comes up.
    @Test func brokerUnreachableAtStartupIsSpooledThenPublished() async throws {
        let broker = try MosquittoBroker(persistence: true)
        let observer = try await Self.persistentSubscriber(port: broker.port)
        observer.stop()
        broker.stop()  // SIGTERM: the broker saves the observer's session
        let spool = Self.spoolDirectory()
        defer { try? FileManager.default.removeItem(at: spool) }
        let bridge = BridgeProcess(arguments: ["--mqtt-url", broker.url, "--spool-dir", spool.path])
        try bridge.start()
        let fleet = SequencedFleet(count: 3, prefix: "UNR")
        try fleet.connect(port: bridge.tcpPort)
        for _ in 0..<50 {
            fleet.sendRound()
        }
        let counted = try await Self.waitUntil(.seconds(10)) { bridge.metric("cctr_frames_total") == Double(3 + 150) }
        #expect(counted, "the bridge did not read every frame while the broker was down")
        #expect(bridge.metric("cctr_mqtt_connected") == 0)
        #expect((bridge.metric("cctr_spool_bytes") ?? 0) > 0)
        try broker.start()
        let subscriber = try await Self.persistentSubscriber(port: broker.port)
        _ = try await Self.waitUntil(.seconds(20)) {
            DeliveryReport(messages: subscriber.messages, sent: fleet.sent).missing.isEmpty
        }
        let report = DeliveryReport(messages: subscriber.messages, sent: fleet.sent)
        print("broker unreachable at start-up: \(report)")
        #expect(report.missing.isEmpty && report.outOfOrder.isEmpty, "\(report)\n\(bridge.log.suffix(2000))")
        // Reconnect delays read as whole milliseconds, not as a `Duration`'s seconds.
        #expect(bridge.log.contains(try Regex(#"mqtt\.retry_in_ms=\d+[ \]]"#)), "\(bridge.log.suffix(2000))")
        #expect(!bridge.log.contains("retry_in="))
        bridge.kill(SIGTERM)
    }

    /// A hung broker (frozen with SIGSTOP, as a black-holed network would look) cannot hold the
    /// shutdown: SIGTERM arrives while devices send, and the bridge exits within
    /// `--shutdown-timeout` plus a small margin. With a spool, everything the bridge accepted
    /// before SIGTERM stays in it and arrives after a restart with the broker resumed; without
    /// one, the last log line says how many messages were lost, and that count covers every
    /// accepted position that did not arrive.
    @Test(arguments: [true, false])
    func shutdownWithFrozenBrokerKeepsItsTimeout(spool: Bool) async throws {
        let broker = try MosquittoBroker(persistence: true)
        let observer = try await Self.persistentSubscriber(port: broker.port, id: "frozen-observer")
        let directory = Self.spoolDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let timeout = 2
        let arguments = ["--mqtt-url", broker.url, "--shutdown-timeout", "\(timeout)"]
            + (spool ? ["--spool-dir", directory.path] : [])
        let bridge = BridgeProcess(arguments: arguments)
        try bridge.start()
        _ = try await Self.waitUntil(.seconds(10)) { bridge.metric("cctr_mqtt_connected") == 1 }
        let fleet = SequencedFleet(count: 20, prefix: "FRZ")
        try fleet.connect(port: bridge.tcpPort)
        for round in 0..<200 {
            if round == 20 { broker.pause() }
            fleet.sendRound()
        }
        let accepted = try await Self.waitUntil(.seconds(10)) { bridge.metric("cctr_frames_total") == Double(20 + fleet.totalSent) }
        #expect(accepted, "the bridge did not read every frame")
        if spool {
            #expect(bridge.metric("cctr_spool_memory_bytes") == 0, "accepted records are on disk")
        }
        let acceptedBeforeStop = fleet.sent
        let sending = Task.detached {
            for _ in 0..<200 { fleet.sendRound() }
        }
        let elapsed = await bridge.stop(SIGTERM, within: .seconds(timeout + 10))
        await sending.value
        print("frozen broker, spool \(spool): SIGTERM to exit \(elapsed.map { "\($0)" } ?? "over \(timeout + 10) s"); last line: \(bridge.lastLogLine)")
        let exit = try #require(elapsed, "the bridge did not exit\n\(bridge.log.suffix(3000))")
        #expect(exit < .seconds(timeout) + .milliseconds(1500), "\(bridge.log.suffix(3000))")
        fleet.disconnect()
        broker.resume()

        let last = bridge.lastLogLine
        if spool {
            #expect(last.contains("left in the spool, published at the next start"), "\(last)")
            try bridge.start()
        } else {
            #expect(last.contains("unpublished messages lost") && !last.contains("in the spool"), "\(last)")
        }
        if spool {
            _ = try await Self.waitUntil(.seconds(20)) {
                DeliveryReport(messages: observer.messages, sent: acceptedBeforeStop).missing.isEmpty
            }
        } else {
            // The broker reads what the bridge had written before the close, then publishes the
            // bridge's last will: after that nothing more can arrive.
            let will = try await Self.waitUntil(.seconds(20)) {
                observer.messages.contains { $0.topic == "cctr/bridge/fault/state" && $0.text == "offline" }
            }
            #expect(will, "the resumed broker publishes the bridge's last will")
        }
        let report = DeliveryReport(messages: observer.messages, sent: acceptedBeforeStop)
        print("frozen broker, spool \(spool), after resume: \(report)")
        if spool {
            #expect(report.missing.isEmpty && report.outOfOrder.isEmpty, "\(report)\n\(bridge.log.suffix(2000))")
            bridge.kill(SIGTERM)
        } else {
            let lost = try #require(try Regex(#"lost=(\d+)"#).firstMatch(in: last).flatMap { Int($0.output[1].substring ?? "") })
            let missing = report.missing.values.map(\.count).reduce(0, +)
            #expect(lost > 0 && lost >= missing, "lost \(lost), missing \(missing)")
        }
    }

    /// `--spool-full block` with a 256 KiB spool and no broker: the spool fills, appends wait,
    /// the queue in front of the spool reaches its bound and the device's reads pause (the
    /// bridge stops counting frames; the rest waits in the socket). Once the broker is up,
    /// every frame is published, in order.
    @Test func fullSpoolWithBlockPausesDevicesWithoutLoss() async throws {
        let broker = try MosquittoBroker(persistence: true)
        try await Self.persistentSubscriber(port: broker.port, id: "block-observer").stop()
        broker.stop()
        let spool = Self.spoolDirectory()
        defer { try? FileManager.default.removeItem(at: spool) }
        // Without the frame-rate limit: reads are fair (4 KiB a turn), so its burst of 1000
        // would pause this one device long before the spool and its queue fill, and the frames
        // would trickle in at 100/s instead of stopping. The spool (about 600 records) and the
        // queue in front of it (4096) fill with about 4,700 frames: 8,000 are sent, past the
        // byte budget's burst too, which slows the device but does not stop it.
        let bridge = BridgeProcess(arguments: [
            "--mqtt-url", broker.url, "--spool-dir", spool.path, "--spool-max-bytes", "262144", "--spool-full", "block",
            "--frame-rate-limit", "0",
        ])
        try bridge.start()
        let fleet = SequencedFleet(count: 1, prefix: "BLK")
        try fleet.connect(port: bridge.tcpPort)
        let total = 8000
        let sending = Task.detached {
            for _ in 0..<total { fleet.sendRound() }
        }
        // Reading has paused once the count stays put for a second (under load it takes longer
        // to get there).
        var before = -1.0
        var after = try #require(bridge.metric("cctr_frames_total"))
        for _ in 0..<15 where before != after {
            before = after
            try await Task.sleep(for: .seconds(1))
            after = try #require(bridge.metric("cctr_frames_total"))
        }
        let memory = try #require(bridge.residentKiB)
        print("spool full, block: the bridge read \(Int(after)) of \(total + 1) frames and paused; RSS \(memory) KiB")
        #expect(before == after && after < Double(total + 1), "reading did not pause: \(before) then \(after)")
        try broker.start()
        let brokerUp = ContinuousClock.now
        let observer = try await Self.persistentSubscriber(port: broker.port, id: "block-observer")
        await sending.value
        _ = try await Self.waitUntil(.seconds(50)) {
            DeliveryReport(messages: observer.messages, sent: fleet.sent).missing.isEmpty
        }
        let report = DeliveryReport(messages: observer.messages, sent: fleet.sent)
        print("spool full, block, then broker up: \(report), drained in \(ContinuousClock.now - brokerUp)")
        #expect(report.sent == total)
        #expect(report.missing.isEmpty && report.outOfOrder.isEmpty, "\(report)")
        bridge.kill(SIGTERM)
    }

    // MARK: - Bridge faults

    /// The bridge process is SIGKILLed with accepted frames not yet acknowledged by the broker,
    /// then started again on the same spool; every accepted frame must reach the broker.
    ///
    /// "Accepted" is measured, not assumed: the devices send all their frames while the broker
    /// is frozen with SIGSTOP (so nothing is acknowledged and everything sits in the spool, part
    /// of it as unacknowledged in-flight publishes); the test waits until the bridge's
    /// `cctr_frames_total` counts every frame sent (the bridge read and decoded them all) and
    /// then 500 ms for the spool appender, and only then sends SIGKILL. The broker is then
    /// resumed and the bridge restarted. With `always`, an append returns after `fdatasync`; with
    /// `interval`, records reach the kernel within microseconds and are synced every 100 ms, so a
    /// process kill (unlike power loss) must lose nothing in either mode.
    @Test(arguments: ["always", "interval"])
    func bridgeKilledLosesNothingAccepted(sync: String) async throws {
        let broker = try MosquittoBroker(persistence: true)
        let observer = try await Self.persistentSubscriber(port: broker.port)
        let spool = Self.spoolDirectory()
        defer { try? FileManager.default.removeItem(at: spool) }
        let bridge = BridgeProcess(arguments: ["--mqtt-url", broker.url, "--spool-dir", spool.path, "--spool-sync", sync])
        try bridge.start()
        _ = try await Self.waitUntil(.seconds(10)) { bridge.metric("cctr_mqtt_connected") == 1 }
        let fleet = SequencedFleet(count: 3, prefix: "KIL")
        try fleet.connect(port: bridge.tcpPort)
        for round in 0..<200 {
            if round == 50 { broker.pause() }
            fleet.sendRound()
            if round % 10 == 0 { try await Task.sleep(for: .milliseconds(10)) }  // a stream, not one burst
        }
        let accepted = try await Self.waitUntil(.seconds(10)) { bridge.metric("cctr_frames_total") == Double(3 + fleet.totalSent) }
        #expect(accepted, "the bridge did not read every frame")
        // The flusher has written every accepted record to the kernel: what SIGKILL keeps.
        #expect(try await Self.waitUntil(.seconds(10)) { bridge.metric("cctr_spool_memory_bytes") == 0 })
        bridge.kill(SIGKILL)
        fleet.disconnect()
        broker.resume()
        try bridge.start()
        _ = try await Self.waitUntil(.seconds(20)) {
            DeliveryReport(messages: observer.messages, sent: fleet.sent).missing.isEmpty
        }
        let report = DeliveryReport(messages: observer.messages, sent: fleet.sent)
        print("bridge SIGKILL, spool-sync \(sync): \(report)")
        #expect(report.sent == 600)
        #expect(report.missing.isEmpty && report.outOfOrder.isEmpty, "\(report)\n\(bridge.log.suffix(2000))")
        bridge.kill(SIGTERM)
    }

    // MARK: - Hostile clients

    /// A slow-loris client, a client sending 1 MB without `^`, and 300 garbage connections at
    /// once: a well-behaved device keeps publishing with bounded latency (each frame is sent
    /// only after the previous one arrived, and the time from send to arrival is measured), and
    /// the bridge's resident memory stays bounded.
    @Test func hostileClientsDoNotStarveOthers() async throws {
        let broker = try MosquittoBroker()
        let subscriber = try await MosquittoSubscriber(port: broker.port, topics: ["cctr/+/position"])
        let bridge = BridgeProcess(arguments: ["--mqtt-url", broker.url, "--idle-timeout", "4"])
        try bridge.start()
        _ = try await Self.waitUntil(.seconds(10)) { bridge.metric("cctr_mqtt_connected") == 1 }
        let baseline = try #require(bridge.residentKiB)

        let good = SequencedFleet(count: 1, prefix: "GOOD")
        try good.connect(port: bridge.tcpPort)
        // One burst of 300 garbage connections, each sending 4 KiB of junk and staying open.
        var garbage: [TrackerClient] = []
        for index in 0..<300 {
            let client = try TrackerClient(tcpPort: bridge.tcpPort)
            try client.send(Array(repeating: UInt8(truncatingIfNeeded: index &* 31 &+ 7), count: 4096))
            garbage.append(client)
        }
        // 1 MB inside one frame that never ends, in 64 KiB writes from another thread.
        let flood = try TrackerClient(tcpPort: bridge.tcpPort)
        let flooding = Task.detached {
            try flood.send("*150817160254UB05")
            for _ in 0..<16 { try flood.send(Array(repeating: UInt8(ascii: "7"), count: 65_536)) }
        }
        // A slow loris: a login frame at one byte per second, which never completes in time.
        let loris = try TrackerClient(tcpPort: bridge.tcpPort)
        let dripping = Task.detached {
            for byte in SequencedFleet.login("LORIS0000000001").utf8 {
                guard (try? loris.send([byte])) != nil else { return }
                try await Task.sleep(for: .seconds(1))
            }
        }

        var latencies: [Double] = []
        var peak = baseline
        for sequence in 1...40 {
            let start = ContinuousClock.now
            good.sendRound()
            let arrived = try await Self.waitUntil(.seconds(5)) {
                subscriber.messages.contains { $0.json?["odometer_m"] == .number(Double(sequence)) }
            }
            #expect(arrived, "frame \(sequence) of the good device did not arrive")
            let elapsed = ContinuousClock.now - start
            latencies.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            peak = max(peak, bridge.residentKiB ?? 0)
            try await Task.sleep(for: .milliseconds(200))  // the good device's pace while the others attack
        }
        try await flooding.value
        let sorted = latencies.sorted()
        print("hostile clients: good device latency p50 \(sorted[sorted.count / 2] * 1000) ms, max \(sorted.last! * 1000) ms; RSS \(baseline) KiB -> peak \(peak) KiB")
        #expect(sorted.last! < 1.0)
        #expect(peak - baseline < 64 * 1024, "resident memory grew by \(peak - baseline) KiB")
        // The slow loris never completed a frame: the idle timeout (4 s) closed it although
        // it kept sending bytes.
        #expect(await loris.waitForClose())
        dripping.cancel()
        #expect(subscriber.messages.allSatisfy { $0.json?["device_id"]?.string == "GOOD00000000001" })
        bridge.kill(SIGTERM)
    }

    // MARK: - Limits

    /// `--frame-rate-limit 50` (burst 500): 600 frames sent at once put the session 100 frames
    /// in debt (NIO may read them all in one read loop: frames already read are never
    /// refused), so reading pauses for about 2 s; 100 more frames sent meanwhile are only
    /// read once the debt is paid. All 700 arrive, none lost or reordered.
    @Test func frameRateLimitPausesReadingWithoutLoss() async throws {
        let fixture = try await BridgeFixture.start { $0.frameRateLimit = 50 }
        let fleet = SequencedFleet(count: 1, prefix: "RATE")
        try fleet.connect(port: fixture.tcpPort)
        let start = ContinuousClock.now
        for _ in 0..<600 { fleet.sendRound() }
        try await Task.sleep(for: .milliseconds(300))  // under test: frames sent while reading is paused
        for _ in 0..<100 { fleet.sendRound() }
        let messages = try await fixture.waitFor("every frame", timeout: .seconds(20)) {
            DeliveryReport(messages: $0, sent: fleet.sent).missing.isEmpty
        }
        let elapsed = ContinuousClock.now - start
        let report = DeliveryReport(messages: messages, sent: fleet.sent)
        print("frame-rate limit 50/s, 701 frames at once: \(report) in \(elapsed)")
        #expect(report.missing.isEmpty && report.outOfOrder.isEmpty && report.duplicates == 0)
        #expect(elapsed > .milliseconds(1900))
    }

    @Test func connectionLimitsRefuseExtraConnections() async throws {
        let fixture = try await BridgeFixture.start { $0.maxConnections = 3 }
        let admitted = try (0..<3).map { _ in try TrackerClient(tcpPort: fixture.tcpPort) }
        #expect(try await eventually { try await fixture.metric("cctr_connections") == 3 })
        let extra = try TrackerClient(tcpPort: fixture.tcpPort)
        #expect(await extra.waitForClose(), "a fourth connection was kept open")
        // The admitted ones still work.
        try admitted[0].send(SequencedFleet.login("LIMIT0000000001"))
        try await fixture.waitFor("the admitted device's position") { $0.contains { $0.topic == "cctr/LIMIT0000000001/position" } }

        let perIP = try await BridgeFixture.start { $0.maxConnectionsPerIP = 2 }
        let fromOneIP = try (0..<2).map { _ in try TrackerClient(tcpPort: perIP.tcpPort) }
        #expect(try await eventually { try await perIP.metric("cctr_connections") == 2 })
        let third = try TrackerClient(tcpPort: perIP.tcpPort)
        #expect(await third.waitForClose(), "a third connection from 127.0.0.1 was kept open")
        #expect(fromOneIP.count == 2)
    }

    @Test func allowlistDeadLettersUnknownIDs() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("allowlist-\(UUID().uuidString)")
        try "KNOWN0000000001\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let fixture = try await BridgeFixture.start { $0.allowlist = file.path }
        let stranger = try TrackerClient(tcpPort: fixture.tcpPort)
        try stranger.send(SequencedFleet.login("STRANGER0000001") + SequencedFleet.position(sequence: 1))
        let known = try TrackerClient(tcpPort: fixture.tcpPort)
        try known.send(SequencedFleet.login("KNOWN0000000001"))
        try await fixture.waitFor("the known device and the stranger's dead letter") { messages in
            messages.contains { $0.topic == "cctr/KNOWN0000000001/position" }
                && messages.contains { $0.topic == "cctr/bridge/test/deadletter" && $0.json?["reason"]?.string == "not in allowlist" }
        }
        // An absence check (nothing of the stranger is published): a quiet period.
        try await Task.sleep(for: .milliseconds(300))
        #expect(!fixture.subscriber.messages.contains { $0.topic.hasPrefix("cctr/STRANGER") })
    }
}
