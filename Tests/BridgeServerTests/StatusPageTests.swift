import BridgeServer
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

/// The status page and `/api/` of a live bridge (real mosquitto, real tracker sockets): the
/// answers match `schemas/api-*.schema.json`, attacker text arrives intact and escaped, and
/// `--http-token` guards the page and the API but not the health endpoints.
/// (`scripts/browser_test.py` checks the page itself in headless Chromium.)
@Suite(.serialized, .tearsDownFixtures) struct StatusPageTests {
    static let device = CommandIntegrationTests.device
    static let login = CommandIntegrationTests.login
    /// Attacker bytes before a real frame: a dead letter of reason `garbage`.
    static let hostile: [UInt8] = Array(#"<script>window.__pwned=1</script>"'"#.utf8) + [0x00, 0xFF, 0xC3, 0x28, 0x0A]
    static let hostileID = #"<img src=x onerror=alert(1)>"'"#

    func get(_ fixture: BridgeFixture, _ path: String, headers: [String: String] = [:]) throws -> LoopbackHTTP.Response {
        try LoopbackHTTP.get(port: try #require(fixture.bridge.healthPort), path: path, headers: headers)
    }

    func json(_ response: LoopbackHTTP.Response) throws -> JSONValue {
        try #require(try? JSONValue.parse(response.body), "not JSON: \(response.text)")
    }

    func waitFor(_ what: String, _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while ContinuousClock.now < deadline {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test func everyAnswerMatchesItsSchema() async throws {
        let fixture = try await BridgeFixture.start()
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(Self.hostile)
        try tracker.send(Self.login)
        // With a response topic: its copy of each result is not counted twice.
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/\(Self.device)/cmd",
                              payload: #"{"id":"s-1","type":"custom","params":{"data":"X"},"ttl_s":60}"#,
                              responseTopic: "replies/status-test")
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/OFFLINE1/cmd",
                              payload: #"{"id":"s-2","type":"custom","params":{"data":"Y"},"ttl_s":60}"#)
        try await waitFor("a device, a dead letter and two commands") {
            let devices = try json(get(fixture, "/api/devices"))["devices"]?.array ?? []
            let letters = try json(get(fixture, "/api/deadletters"))["deadletters"]?.array ?? []
            let commands = try json(get(fixture, "/api/commands"))
            return devices.count == 1 && !letters.isEmpty
                && (commands["in_flight"]?.array?.count ?? 0) + (commands["results"]?.array?.count ?? 0) == 2
        }
        var documents: [(schema: String, json: [UInt8])] = []
        for (schema, path) in [
            ("api-bridge", "/api/bridge"), ("api-devices", "/api/devices"), ("api-device", "/api/devices/\(Self.device)"),
            ("api-deadletters", "/api/deadletters"), ("api-commands", "/api/commands"),
        ] {
            let response = try get(fixture, path)
            #expect(response.status == 200, "\(path)")
            #expect(response.headers["content-type"] == "application/json")
            #expect(response.headers["x-content-type-options"] == "nosniff")
            documents.append((schema, response.body))
        }
        let result = try PayloadScripts.validate(documents: documents)
        #expect(result.status == 0, "\(result.output)\(result.errors)")

        let bridge = try json(get(fixture, "/api/bridge"))
        #expect(bridge["broker"]?["connected"]?.bool == true)
        #expect(bridge["instance"]?.string == "test")
        let device = try json(get(fixture, "/api/devices/\(Self.device)"))
        #expect(device["device"]?["state"]?.string == "online")
        #expect(device["device"]?["peer"]?.string?.hasPrefix("127.0.0.1:") == true)
        let frame = try #require(device["frames"]?.array?.first)
        #expect(frame["raw"]?.string == Self.login)
        #expect(frame["decoded"]?["message_type"]?.string == "UB05")
        let fix = try #require(device["device"]?["last_fix"])
        #expect(fix["lat"]?.number.map { abs($0 - -21.114665) < 0.0001 } == true)
        let commands = try json(get(fixture, "/api/commands"))
        #expect(commands["in_flight"]?.array?.map { $0["id"]?.string } == ["s-2"])
        #expect(commands["results"]?.array?.map { $0["id"]?.string } == ["s-1"])
        #expect(try get(fixture, "/api/devices/NOSUCHDEVICE").status == 404)
    }

    /// The device page keeps the last 20 frames, newest first, whatever the device sent.
    @Test func aDeviceKeepsItsLastTwentyFrames() async throws {
        let fixture = try await BridgeFixture.start()
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(Self.login)
        for second in 10..<40 {
            try tracker.send("*1708212230\(second)UB00HSO^")
        }
        try await waitFor("31 frames") {
            try json(get(fixture, "/api/devices/\(Self.device)"))["device"]?["frames"]?.number == 31
        }
        let frames = try #require(try json(get(fixture, "/api/devices/\(Self.device)"))["frames"]?.array)
        #expect(frames.count == 20)
        #expect(frames.first?["raw"]?.string == "*170821223039UB00HSO^")
        #expect(frames.last?["raw"]?.string == "*170821223020UB00HSO^")
        #expect(frames.allSatisfy { $0["decoded"]?["content"]?.string == "heartbeat" })
    }

    /// `cctr-bridge forget` (its announcement on `<base>/bridge/forget`) takes an offline
    /// device off the page, as it takes it off the broker; an online device stays.
    @Test func aForgottenOfflineDeviceLeavesThePage() async throws {
        let fixture = try await BridgeFixture.start()
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(Self.login)
        try await waitFor("the device") { try json(get(fixture, "/api/devices"))["devices"]?.array?.count == 1 }
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/bridge/forget", payload: Self.device)
        try await fixture.waitFor("the announcement") { $0.contains { $0.topic == "cctr/bridge/forget" } }
        #expect(try json(get(fixture, "/api/devices"))["devices"]?.array?.count == 1, "an online device stays")
        tracker.shutdownWrite()
        try await waitFor("the device offline") {
            try json(get(fixture, "/api/devices/\(Self.device)"))["device"]?["state"]?.string == "offline"
        }
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/bridge/forget", payload: Self.device)
        try await waitFor("the device gone") { try json(get(fixture, "/api/devices"))["devices"]?.array?.isEmpty == true }
        #expect(try get(fixture, "/api/devices/\(Self.device)").status == 404)
    }

    /// A broker outage shows on the bridge panel: disconnected since when, records piling up
    /// in the spool with the oldest one's age, and all of it clearing once the broker is back.
    @Test func aBrokerOutageShowsInTheBridgeAnswer() async throws {
        let fixture = try await BridgeFixture.start()
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(Self.login)
        try await waitFor("the device") { try json(get(fixture, "/api/devices"))["devices"]?.array?.count == 1 }
        let connectedSince = try json(get(fixture, "/api/bridge"))["broker"]?["since"]?.string
        fixture.broker.stop()
        try await waitFor("the broker down") { try json(get(fixture, "/api/bridge"))["broker"]?["connected"]?.bool == false }
        try tracker.send("*161101144927UD00144927A1203.5394S07657.7255W000.4161101255.0011111111L022043^")
        try await waitFor("a pending record") {
            try (json(get(fixture, "/api/bridge"))["publish"]?["spool_pending"]?.number ?? 0) > 0
        }
        let down = try json(get(fixture, "/api/bridge"))
        #expect(down["broker"]?["since"]?.string != connectedSince)
        // At most the time since the broker went down, not since the bridge started.
        #expect((down["publish"]?["spool_oldest_age_ms"]?.number ?? .infinity) < 60_000)
        #expect((down["publish"]?["spool_bytes"]?.number ?? 0) > 0)
        try fixture.broker.start()
        try await waitFor("the spool drained") {
            let publish = try json(get(fixture, "/api/bridge"))["publish"]
            return publish?["spool_pending"]?.number == 0 && publish?["spool_oldest_age_ms"]?.isNull == true
        }
        #expect(try json(get(fixture, "/api/bridge"))["broker"]?["connected"]?.bool == true)
    }

    @Test func attackerTextArrivesIntactAndEscaped() async throws {
        let fixture = try await BridgeFixture.start()
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(Self.hostile)
        try tracker.send(Self.login)
        let idJSON = String(decoding: try JSONEncoder().encode(Self.hostileID), as: UTF8.self)
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/\(Self.device)/cmd",
                              payload: #"{"id":\#(idJSON),"type":"<b>bold</b>","params":{}}"#)
        try await waitFor("the dead letter and the rejected command") {
            let letters = try json(get(fixture, "/api/deadletters"))["deadletters"]?.array ?? []
            let results = try json(get(fixture, "/api/commands"))["results"]?.array ?? []
            return !letters.isEmpty && !results.isEmpty
        }
        let letters = try get(fixture, "/api/deadletters")
        let letter = try #require(try json(letters)["deadletters"]?.array?.first)
        // Every byte survives: NUL, the invalid UTF-8 and the quotes come back as the same
        // code points, and the hex spells them out.
        let raw = try #require(letter["raw"]?.string)
        #expect(raw.unicodeScalars.map { UInt8($0.value) } == Self.hostile)
        #expect(letter["raw_hex"]?.string == Self.hostile.map { String(format: "%02x", $0) }.joined())
        // The JSON text has no raw NUL or quote breaking out of its string.
        #expect(!letters.body.contains(0))
        let result = try #require(try json(get(fixture, "/api/commands"))["results"]?.array?.first)
        #expect(result["id"]?.string == Self.hostileID)
        #expect(result["type"]?.string == "<b>bold</b>")
        #expect(result["status"]?.string == "rejected")
        // The page itself is static: no data is ever written into its HTML.
        let page = try get(fixture, "/")
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(!page.text.contains("__pwned") && !page.text.contains("onerror"))
        #expect(page.headers["content-security-policy"]?.contains("script-src 'self'") == true)
        #expect(page.headers["content-security-policy"]?.contains("unsafe-inline") == false)
        #expect(page.headers["referrer-policy"] == "no-referrer")
        let script = try get(fixture, "/app.js").text
        #expect(!script.contains("innerHTML") && !script.contains("insertAdjacentHTML") && !script.contains("document.write"))
    }

    @Test func tokenGuardsThePageAndTheAPIOnly() async throws {
        let fixture = try await BridgeFixture.start { $0.httpToken = "s3cret-T0ken" }
        for path in ["/", "/api/bridge", "/api/devices", "/api/deadletters", "/api/commands", "/api/devices/X"] {
            #expect(try get(fixture, path).status == 401, "\(path)")
            #expect(try get(fixture, path, headers: ["Authorization": "Bearer wrong"]).status == 401, "\(path)")
            #expect(try get(fixture, path + "?token=s3cret-T0ke").status == 401, "\(path)")
        }
        #expect(try get(fixture, "/").headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        #expect(try get(fixture, "/", headers: ["Authorization": "Bearer s3cret-T0ken"]).status == 200)
        #expect(try get(fixture, "/api/bridge", headers: ["Authorization": "Bearer s3cret-T0ken"]).status == 200)
        #expect(try get(fixture, "/api/bridge", headers: ["Authorization": "bearer s3cret-T0ken"]).status == 200)
        #expect(try get(fixture, "/api/bridge?token=s3cret-T0ken").status == 200)
        #expect(try get(fixture, "/?token=s3cret%2DT0ken").status == 200)
        for path in ["/healthz", "/readyz", "/metrics", "/app.js", "/app.css"] {
            #expect(try get(fixture, path).status == 200, "\(path)")
        }
    }

    @Test func theStatusPageBeyondLoopbackWithoutATokenIsWarnedAbout() throws {
        func bridgeLog(metrics: String, token: String?) throws -> [String] {
            let lines = LogLines()
            var options = BridgeOptions.defaults
            options.listen = [ListenAddress("tcp://127.0.0.1:0")!]
            options.metricsListen = ListenAddress(metrics)!
            options.httpToken = token
            let logger = Logger(label: "status-test") { _ in CollectingLogHandler(lines: lines) }
            // Built, never run: nothing is bound, the warning comes from the configuration.
            _ = try Bridge(options: options, logger: logger)
            return lines.all
        }
        let warning = "the status page and /api/ are open to anyone who reaches --metrics-listen"
        #expect(try bridgeLog(metrics: "0.0.0.0:9888", token: nil).contains { $0.contains(warning) })
        #expect(try bridgeLog(metrics: "[::]:9888", token: nil).contains { $0.contains(warning) })
        #expect(!(try bridgeLog(metrics: "0.0.0.0:9888", token: "T")).contains { $0.contains(warning) })
        #expect(!(try bridgeLog(metrics: "127.0.0.1:9888", token: nil)).contains { $0.contains(warning) })
        #expect(!(try bridgeLog(metrics: "[::1]:9888", token: nil)).contains { $0.contains(warning) })
    }
}

/// Keeps every log line's message, for tests that check what the bridge says.
struct CollectingLogHandler: LogHandler {
    let lines: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.append("\(event.level) \(event.message)")
    }
}

final class LogLines: Sendable {
    private let storage = Mutex<[String]>([])

    func append(_ line: String) {
        storage.withLock { $0.append(line) }
    }

    var all: [String] { storage.withLock { $0 } }
}
