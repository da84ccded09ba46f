import BridgeCore
import NIOCore
import NIOEmbedded
import Testing
@testable import BridgeServer

/// The TCP handler on an `EmbeddedChannel`, in virtual time: every pause, timeout and tick
/// is checked to the millisecond by advancing the event loop's clock, with no sleeps.
@Suite struct TrackerTCPHandlerTests {
    /// Counts the reads that reach the socket: sits between the handler and the channel's
    /// head, so a read the handler withholds never gets here.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var reads = 0

        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    /// One tracker connection from 198.51.100.7, with the wall clock following the loop's
    /// virtual time.
    struct Connection {
        static let epoch: Int64 = 1_764_806_400_000

        let harness: HubHarness
        let loop: EmbeddedEventLoop
        let counter = ReadCounter()
        let channel: EmbeddedChannel

        init(settings: ListenerSettings, limits: DeviceSession.Limits = DeviceSession.Limits(), tarpit: Tarpit = Tarpit()) throws {
            harness = try HubHarness()
            var context = harness.pipelineContext
            context.limits = limits
            let loop = EmbeddedEventLoop()
            self.loop = loop
            let handler = TrackerTCPHandler(
                context: context, hub: harness.hub, settings: settings, tarpit: tarpit, peer: "198.51.100.7:40112",
                ip: "198.51.100.7", instance: "main", wallClock: { Self.epoch + Int64(loop.now.uptimeNanoseconds / 1_000_000) }
            )
            channel = EmbeddedChannel(handlers: [counter, handler], loop: loop)
            try channel.connect(to: SocketAddress(ipAddress: "198.51.100.7", port: 40112)).wait()
        }

        func send(_ text: String) throws {
            try send(Array(text.utf8))
        }

        func send(_ bytes: [UInt8]) throws {
            try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
        }

        /// NIO's request for the next read, as it makes after every read.
        func askToRead() {
            channel.read()
        }

        func advance(milliseconds: Int64) {
            loop.advanceTime(by: .milliseconds(milliseconds))
        }

        var positions: Int { harness.topics(endingWith: "/position").count }
    }

    static func frames(positions: Int, id: String = "GOOD00000000001") -> String {
        SequencedFleet.login(id) + (1...positions).map { SequencedFleet.position(sequence: $0) }.joined()
    }

    /// `--frame-rate-limit 10` (burst 100): 110 frames at once are all published (frames
    /// already read are never refused), then reading waits exactly until the debt of 10
    /// frames is paid at 10 a second, and resumes by itself.
    @Test func frameRateLimitPausesReadingUntilTheDebtIsPaid() throws {
        let connection = try Connection(settings: ListenerSettings(frameRateLimit: 10, bytesPerSecond: 0))
        connection.askToRead()
        #expect(connection.counter.reads == 1)

        try connection.send(Self.frames(positions: 109))
        #expect(connection.positions == 110)
        connection.askToRead()
        #expect(connection.counter.reads == 1, "a read went out while the session was over its frame rate")
        connection.advance(milliseconds: 999)
        #expect(connection.counter.reads == 1)
        connection.advance(milliseconds: 1)
        #expect(connection.counter.reads == 2, "reading did not resume once the debt was paid")
        connection.askToRead()
        #expect(connection.counter.reads == 3)
    }

    /// The byte budget (1000 B/s, burst 2000) pauses reading for exactly the bytes over the
    /// burst, valid frames or not: a connection pays for its own bytes.
    @Test func byteBudgetPausesReadingForTheBytesOverIt() throws {
        let connection = try Connection(settings: ListenerSettings(frameRateLimit: 0, bytesPerSecond: 1000, byteBurst: 2000))
        let bytes = Array(Self.frames(positions: 30).utf8)
        let debt = Int64(bytes.count - 2000)
        #expect(debt > 100)
        try connection.send(bytes)
        #expect(connection.positions == 31)
        connection.askToRead()
        #expect(connection.counter.reads == 0)
        connection.advance(milliseconds: debt - 1)
        #expect(connection.counter.reads == 0, "read again before the budget refilled")
        connection.advance(milliseconds: 1)
        #expect(connection.counter.reads == 1)
        #expect(connection.channel.isActive)
    }

    /// A sink that cannot keep up (a full spool with `--spool-full block`) holds reading in
    /// steps of 100 ms until it drains.
    @Test func congestedSinkHoldsReadingUntilItDrains() throws {
        let connection = try Connection(settings: ListenerSettings(frameRateLimit: 0, bytesPerSecond: 0))
        connection.harness.sink.congested.store(true, ordering: .relaxed)
        try connection.send(SequencedFleet.login("GOOD00000000001"))
        connection.askToRead()
        connection.advance(milliseconds: 300)
        #expect(connection.counter.reads == 0)
        connection.harness.sink.congested.store(false, ordering: .relaxed)
        connection.advance(milliseconds: 100)
        #expect(connection.counter.reads == 1)
    }

    /// More than two maximum frames (2 × 1024 bytes) without a valid frame rejects the
    /// connection, once, counted by reason when it happens; a valid frame starts the count
    /// again. The rejected connection is held unread for the tarpit's 10 s, then closed.
    @Test func garbageWithoutAValidFrameIsHeldUnreadThenClosed() throws {
        let tarpit = Tarpit()
        let connection = try Connection(settings: ListenerSettings(frameRateLimit: 0, bytesPerSecond: 0), tarpit: tarpit)
        let junk = Array(repeating: UInt8(ascii: "x"), count: 2000)
        try connection.send(junk)
        try connection.send(SequencedFleet.login("GOOD00000000001"))
        try connection.send(junk)
        try connection.send(Array(repeating: 0x00, count: 48))
        #expect(connection.harness.metric(#"cctr_connections_closed_total{reason="no valid frame"}"#) == 0,
                "2048 bytes since the last valid frame must still be allowed")
        connection.askToRead()
        #expect(connection.counter.reads == 1)
        try connection.send([0xFF])
        #expect(connection.harness.metric(#"cctr_connections_closed_total{reason="no valid frame"}"#) == 1,
                "2049 bytes without a valid frame were not counted")
        #expect(tarpit.count == 1)
        #expect(connection.harness.metric("cctr_connections_held") == 1)
        connection.askToRead()
        connection.advance(milliseconds: 9_999)
        #expect(connection.counter.reads == 1, "a held connection was read again")
        #expect(connection.channel.isActive)
        connection.advance(milliseconds: 1)
        #expect(!connection.channel.isActive, "still open 10 s after it was rejected")
        #expect(tarpit.count == 0)
        #expect(connection.harness.metric("cctr_connections_held") == 0)
        #expect(connection.harness.metric(#"cctr_connections_closed_total{reason="no valid frame"}"#) == 1)
        #expect(connection.positions == 1)
    }

    /// With every place in the tarpit taken, a rejected connection is closed at once: a
    /// client that does not wait for its connections cannot pile up held descriptors.
    @Test func aFullTarpitClosesAtOnce() throws {
        let tarpit = Tarpit(holdMilliseconds: 10_000, capacity: 1)
        let settings = ListenerSettings(frameRateLimit: 0, bytesPerSecond: 0)
        let first = try Connection(settings: settings, tarpit: tarpit)
        let second = try Connection(settings: settings, tarpit: tarpit)
        let junk = Array(repeating: UInt8(ascii: "x"), count: 2049)
        try first.send(junk)
        try second.send(junk)
        #expect(first.channel.isActive)
        #expect(!second.channel.isActive, "a connection waited beyond the tarpit's capacity")
        #expect(second.harness.metric(#"cctr_connections_closed_total{reason="no valid frame"}"#) == 1)
        first.advance(milliseconds: 10_000)
        #expect(!first.channel.isActive)
        #expect(tarpit.count == 0)
    }

    /// The hold never outlasts `--idle-timeout`, the time any silent connection may stay.
    @Test func theHoldIsCappedByTheIdleTimeout() throws {
        let connection = try Connection(settings: ListenerSettings(idleTimeout: 3_000, frameRateLimit: 0, bytesPerSecond: 0))
        try connection.send(Array(repeating: UInt8(ascii: "x"), count: 2049))
        connection.advance(milliseconds: 2_999)
        #expect(connection.channel.isActive)
        connection.advance(milliseconds: 1)
        #expect(!connection.channel.isActive)
    }

    /// An endless frame is the same: past 2 × `--max-frame-bytes` without a terminator the
    /// connection is rejected, whatever its first bytes promised.
    @Test func anEndlessFrameIsRejected() throws {
        let connection = try Connection(settings: ListenerSettings(frameRateLimit: 0, bytesPerSecond: 0))
        try connection.send("*150817160254UB05")
        for _ in 0..<3 where connection.harness.metric(#"cctr_connections_closed_total{reason="no valid frame"}"#) == 0 {
            try connection.send(Array(repeating: UInt8(ascii: "7"), count: 1024))
        }
        #expect(connection.harness.metric(#"cctr_connections_closed_total{reason="no valid frame"}"#) == 1)
        connection.advance(milliseconds: 10_000)
        #expect(!connection.channel.isActive)
    }

    /// The idle timeout counts from the last complete frame: a slow loris dripping bytes that
    /// never finish one is closed on time, a tracker whose frames complete is not.
    @Test func idleTimeoutCountsOnlyCompleteFrames() throws {
        let connection = try Connection(settings: ListenerSettings(idleTimeout: 10_000, frameRateLimit: 0, bytesPerSecond: 0))
        try connection.send(SequencedFleet.login("GOOD00000000001"))
        connection.advance(milliseconds: 6_000)
        try connection.send(SequencedFleet.position(sequence: 1))
        for byte in "*15081716".utf8 {
            connection.advance(milliseconds: 1_000)
            try connection.send([byte])
        }
        // 15 s: 9 s after the last frame, whatever was dripped since.
        #expect(connection.channel.isActive)
        connection.advance(milliseconds: 1_000)
        #expect(!connection.channel.isActive, "still open 10 s after the last frame")
        #expect(connection.harness.metric(#"cctr_connections_closed_total{reason="idle timeout"}"#) == 1)

        let busy = try Connection(settings: ListenerSettings(idleTimeout: 10_000, frameRateLimit: 0, bytesPerSecond: 0))
        try busy.send(SequencedFleet.login("GOOD00000000002"))
        for sequence in 1...5 {
            busy.advance(milliseconds: 9_000)
            try busy.send(SequencedFleet.position(sequence: sequence))
        }
        #expect(busy.channel.isActive)
        busy.advance(milliseconds: 9_999)
        #expect(busy.channel.isActive)
        busy.advance(milliseconds: 1)
        #expect(!busy.channel.isActive)
    }

    /// A position sent before any login is held; if the device stays quiet, the held-frame
    /// tick dead-letters it once it is older than `--held-frames-age`, without new input.
    @Test func heldFramesAgeOutWhileTheDeviceIsQuiet() throws {
        let connection = try Connection(
            settings: ListenerSettings(frameRateLimit: 0, bytesPerSecond: 0),
            limits: DeviceSession.Limits(heldFramesMax: 64, heldFramesMaxAge: 60_000)
        )
        try connection.send(SequencedFleet.position(sequence: 1))
        #expect(connection.harness.messages.isEmpty)
        connection.advance(milliseconds: 60_999)
        #expect(connection.harness.topics(endingWith: "/deadletter").isEmpty)
        connection.advance(milliseconds: 1)
        let deadLetters = connection.harness.messages.filter { $0.topic.hasSuffix("/deadletter") }
        #expect(deadLetters.count == 1)
        #expect(deadLetters.first.map { String(decoding: $0.payload, as: UTF8.self).contains(#""reason":"held frames overflow""#) } == true)
        #expect(connection.channel.isActive)
    }
}
