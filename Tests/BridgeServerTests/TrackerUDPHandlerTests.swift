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
}
