import BridgeCore
import NIOCore
import NIOEmbedded
import Testing
@testable import BridgeServer

/// The UDP handler on an `EmbeddedChannel`, in virtual time.
@Suite struct TrackerUDPHandlerTests {
    /// A UDP session lives `--idle-timeout` after its last datagram: the sweep (every quarter
    /// of the timeout) ends it then, publishing the device `offline`, and not before.
    @Test func sessionsExpireAfterTheIdleTimeout() throws {
        let harness = try HubHarness()
        let loop = EmbeddedEventLoop()
        let handler = TrackerUDPHandler(
            context: harness.pipelineContext, hub: harness.hub, settings: ListenerSettings(idleTimeout: 10_000),
            instance: "main", bindings: nil,
            wallClock: { 1_764_806_400_000 + Int64(loop.now.uptimeNanoseconds / 1_000_000) }
        )
        let channel = EmbeddedChannel(handler: handler, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8888)).wait()
        let device = try SocketAddress(ipAddress: "203.0.113.9", port: 40112)
        func send(_ text: String) throws {
            try channel.writeInbound(AddressedEnvelope(remoteAddress: device, data: channel.allocator.buffer(string: text)))
        }
        let udpSessions = #"cctr_connections{transport="udp"}"#

        try send(SequencedFleet.login("UDP000000000001"))
        #expect(harness.metric(udpSessions) == 1)
        loop.advanceTime(by: .milliseconds(4_000))
        try send(SequencedFleet.position(sequence: 1))
        // Sweeps at 12.5 s (8.5 s quiet) keep it; the one at 15 s (11 s quiet) ends it.
        loop.advanceTime(by: .milliseconds(8_500))
        #expect(harness.metric(udpSessions) == 1)
        #expect(harness.topics(endingWith: "/availability").count == 1)
        loop.advanceTime(by: .milliseconds(2_500))
        #expect(harness.metric(udpSessions) == 0)
        let availability = harness.messages.filter { $0.topic == "cctr/UDP000000000001/availability" }
        #expect(availability.map { String(decoding: $0.payload, as: UTF8.self) } == ["online", "offline"])
        _ = try? channel.finish()
    }

    /// A source over its byte budget (1000 B/s, burst 2000) has its datagrams dropped before
    /// they are parsed, and counted; the budget refills with time, and a refused datagram
    /// costs nothing, so the source is heard again as soon as it slows down.
    @Test func datagramsOverTheSourcesBudgetAreDroppedUnparsed() throws {
        let harness = try HubHarness()
        let loop = EmbeddedEventLoop()
        let handler = TrackerUDPHandler(
            context: harness.pipelineContext, hub: harness.hub,
            settings: ListenerSettings(bytesPerSecond: 1000, byteBurst: 2000), instance: "main", bindings: nil,
            wallClock: { 1_764_806_400_000 + Int64(loop.now.uptimeNanoseconds / 1_000_000) }
        )
        let channel = EmbeddedChannel(handler: handler, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8888)).wait()
        let flooder = try SocketAddress(ipAddress: "192.0.2.1", port: 5000)
        let junk = channel.allocator.buffer(bytes: Array(repeating: UInt8(ascii: "x"), count: 500))
        func flood(_ count: Int) throws {
            for _ in 0..<count { try channel.writeInbound(AddressedEnvelope(remoteAddress: flooder, data: junk)) }
        }
        let parsed = #"cctr_deadletters_total{reason="garbage"}"#
        let dropped = "cctr_udp_datagrams_dropped_total"

        try flood(10)
        #expect(harness.metric(parsed) == 4)
        #expect(harness.metric(dropped) == 6)
        loop.advanceTime(by: .milliseconds(499))
        try flood(1)
        #expect(harness.metric(parsed) == 4)
        loop.advanceTime(by: .milliseconds(1))
        try flood(1)
        #expect(harness.metric(parsed) == 5)
        #expect(harness.metric(dropped) == 7)

        try channel.writeInbound(AddressedEnvelope(
            remoteAddress: try SocketAddress(ipAddress: "192.0.2.2", port: 5000),
            data: channel.allocator.buffer(string: SequencedFleet.login("UDP000000000002"))))
        #expect(harness.topics(endingWith: "/position") == ["cctr/UDP000000000002/position"])
        _ = try? channel.finish()
    }
}
