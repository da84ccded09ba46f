import BridgeServer
import Foundation
import Mosquitto
import TestSupport
import Testing

/// Command routing with two instances on one real mosquitto, with `$share` (the default),
/// broadcast (`--share-group ''`) and over MQTT 3.1.1 (broadcast, what a RabbitMQ cluster
/// gets): a command is
/// executed once with one final result, a command for an offline device is queued once and
/// goes out on whichever instance the device connects to, and a device that moves takes its
/// queued commands along.
@Suite(.serialized, .tearsDownFixtures) struct CommandRoutingIntegrationTests {
    static let device = CommandIntegrationTests.device
    static let login = CommandIntegrationTests.login
    /// `$share`, an empty share group, and MQTT 3.1.1 (broadcast whatever the share group).
    enum Setup: String, CaseIterable, Sendable {
        case shared, broadcast, mqtt311
    }

    static let shareGroups = ["cctr-bridge", ""]

    /// Alpha, then beta, on one broker; returns once alpha answered beta's arrival (so each
    /// knows the other is alive) and both report the expected routing mode.
    func pair(shareGroup: String, commands: String? = nil) async throws -> (alpha: BridgeFixture, beta: BridgeFixture) {
        try await pair(shareGroup.isEmpty ? .broadcast : .shared, commands: commands)
    }

    func pair(_ setup: Setup, commands: String? = nil) async throws -> (alpha: BridgeFixture, beta: BridgeFixture) {
        func configure(_ instance: String) -> (inout BridgeOptions) -> Void {
            { options in
                options.instance = instance
                options.shareGroup = setup == .broadcast ? "" : "cctr-bridge"
                if setup == .mqtt311 { options.mqttProtocol = .v311 }
                if let commands { options.commands = commands }
            }
        }
        let alpha = try await BridgeFixture.start(configure: configure("alpha"))
        let beta = try await BridgeFixture.start(broker: alpha.broker, configure: configure("beta"))
        let mode = setup == .shared ? "shared" : "broadcast"
        try await alpha.waitFor("alpha re-announced itself to beta, both routing \(mode)") { messages in
            let announcements = messages.filter { $0.topic == "cctr/bridge/alpha/state" && $0.text == "online" }
            let modes = messages.filter { $0.topic.hasSuffix("/info") }.compactMap { $0.json?["routing"]?.string }
            return announcements.count >= 2 && modes.count >= 2 && modes.allSatisfy { $0 == mode }
        }
        return (alpha, beta)
    }

    func results(_ fixture: BridgeFixture, id: String) -> [JSONValue] {
        fixture.messages(on: "/\(Self.device)/cmd/result").compactMap(\.json).filter { $0["id"]?.string == id }
    }

    /// `status@instance` of each result, `!` marking the final one.
    func trail(_ fixture: BridgeFixture, id: String) -> [String] {
        results(fixture, id: id).map {
            "\($0["status"]?.string ?? "?")\($0["final"]?.bool == true ? "!" : "")@\($0["instance"]?.string ?? "?")"
        }
    }

    func publish(_ fixture: BridgeFixture, id: String, type: String = "custom", data: String? = nil) throws {
        let params = data.map { #","params":{"data":"\#($0)"}"# } ?? ""
        try Publisher.publish(port: fixture.broker.port, topic: "cctr/\(Self.device)/cmd", payload: #"{"id":"\#(id)","type":"\#(type)"\#(params)}"#)
    }

    /// Reads from the tracker until `done` holds for everything received (or its read times out).
    func receive(_ tracker: TrackerClient, until done: (String) -> Bool) async -> String {
        var received = ""
        while !done(received) {
            let chunk = await tracker.receive()
            if chunk.isEmpty { break }
            received += String(decoding: chunk, as: UTF8.self)
        }
        return received
    }

    func loggedIn(_ fixture: BridgeFixture) async throws -> TrackerClient {
        let tracker = try TrackerClient(tcpPort: fixture.tcpPort)
        try tracker.send(Self.login)
        let instance = fixture.options.instance
        try await fixture.waitFor("the device online on \(instance)") { messages in
            messages.contains {
                $0.topic == "cctr/\(Self.device)/status" && $0.json?["state"]?.string == "online" && $0.json?["instance"]?.string == instance
            }
        }
        return tracker
    }

    @Test(arguments: shareGroups)
    func aCommandForAnOnlineDeviceRunsOnce(shareGroup: String) async throws {
        let (alpha, _) = try await pair(shareGroup: shareGroup)
        let tracker = try await loggedIn(alpha)
        let ids = (1...6).map { "o-\($0)" }
        for (i, id) in ids.enumerated() { try publish(alpha, id: id, data: "O\(i + 1);") }
        try await alpha.waitFor("a final result for each") { _ in ids.allSatisfy { id in results(alpha, id: id).contains { $0["final"]?.bool == true } } }
        let received = await receive(tracker) { text in (1...6).allSatisfy { text.contains("O\($0);") } }
        for i in 1...6 {
            #expect(received.components(separatedBy: "O\(i);").count == 2, "O\(i); written once: \(received)")
        }
        for id in ids {
            let trail = trail(alpha, id: id)
            #expect(trail == ["sent!@alpha"] || trail == ["queued@alpha", "sent!@alpha"], "\(id): \(trail)")
        }
    }

    @Test(arguments: Setup.allCases)
    func aCommandForAnOfflineDeviceIsQueuedOnceAndFollowsItToTheOtherInstance(setup: Setup) async throws {
        let (alpha, beta) = try await pair(setup)
        try publish(alpha, id: "q-1", data: "Q1;")
        try await alpha.waitFor("queued") { _ in !results(alpha, id: "q-1").isEmpty }
        let keeper = try #require(results(alpha, id: "q-1").first?["instance"]?.string)
        let other = keeper == "alpha" ? beta : alpha
        let tracker = try await loggedIn(other)
        let received = await receive(tracker) { $0.contains("Q1;") }
        #expect(received == "Q1;")
        try await alpha.waitFor("sent") { _ in results(alpha, id: "q-1").contains { $0["final"]?.bool == true } }
        #expect(trail(alpha, id: "q-1") == ["queued@\(keeper)", "sent!@\(other.options.instance)"])
        if keeper != other.options.instance {
            let handOvers = alpha.messages(on: "/bridge/\(other.options.instance)/forward").compactMap(\.json)
            #expect(handOvers.map { $0["handover"]?.bool } == [true])
        }
    }

    /// The device's first command waits for its reply on alpha; the second is queued behind
    /// it. The device reconnects to beta: the queued command goes out there, once, and alpha
    /// neither sends it nor shows the device offline when the old connection closes.
    @Test(arguments: shareGroups)
    func aDeviceMovingToAnotherInstanceTakesItsQueuedCommand(shareGroup: String) async throws {
        let templates = try CommandReplyIntegrationTests.templatesFile()
        defer { try? FileManager.default.removeItem(at: templates) }
        let (alpha, beta) = try await pair(shareGroup: shareGroup, commands: templates.path)
        let first = try await loggedIn(alpha)
        try publish(alpha, id: "m-1", type: "positionSingle")
        #expect(String(decoding: await first.receive(), as: UTF8.self).hasSuffix("AP00^"))
        try publish(alpha, id: "m-2", data: "MOVED;")
        try await alpha.waitFor("m-2 queued") { _ in !results(alpha, id: "m-2").isEmpty }

        let second = try await loggedIn(beta)
        #expect(await receive(second) { $0.contains("MOVED;") } == "MOVED;")
        try await alpha.waitFor("m-2 sent") { _ in results(alpha, id: "m-2").contains { $0["final"]?.bool == true } }
        #expect(trail(alpha, id: "m-2") == ["queued@alpha", "sent!@beta"])

        first.shutdownWrite()
        try await alpha.waitFor("m-1 failed on alpha") { _ in results(alpha, id: "m-1").contains { $0["final"]?.bool == true } }
        #expect(trail(alpha, id: "m-1") == ["sent@alpha", "failed!@alpha"])
        let statuses = alpha.messages(on: "/\(Self.device)/status").compactMap(\.json)
        #expect(!statuses.contains { $0["state"]?.string == "offline" }, "the old instance does not show the moved device offline")
        _ = try SchemaValidator.validate(alpha.subscriber.messages.filter { !$0.topic.hasSuffix("/cmd") })
    }

    /// A broker that closes the connection on a `$share` SUBSCRIBE (as ejabberd does): the
    /// bridge reconnects once, broadcasts from then on and says so, and commands work.
    @Test func aBrokerRefusingSharedSubscriptionsGetsBroadcast() async throws {
        let broker = try MosquittoBroker()
        let proxy = try ShareRefusingProxy(brokerPort: broker.port)
        let proxyURL = try MQTTURL("mqtt://127.0.0.1:\(proxy.port)")
        let fixture = try await BridgeFixture.start(broker: broker) { $0.mqttURL = [proxyURL] }
        try await fixture.waitFor("info with broadcast routing") { messages in
            messages.contains { $0.topic == "cctr/bridge/test/info" && $0.json?["routing"]?.string == "broadcast" }
        }
        let tracker = try await loggedIn(fixture)
        try publish(fixture, id: "b-1", data: "B1;")
        #expect(await receive(tracker) { $0.contains("B1;") } == "B1;")
        try await fixture.waitFor("sent") { _ in results(fixture, id: "b-1").contains { $0["final"]?.bool == true } }
        #expect(proxy.refusals == 1)
        #expect(proxy.connections == 2, "one refused connection, then one that stays")
    }
}
