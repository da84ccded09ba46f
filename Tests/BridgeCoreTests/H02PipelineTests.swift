import BridgeCore
import TestSupport
import Testing
import TrackerCodec

/// H02 through the connection pipeline: the same payloads on the same topics as carscop,
/// with `source.protocol` saying which, the device named by every frame, the `V1` answer,
/// alarms beside positions, events for frames without a position, and protocol switches.
@Suite struct H02PipelineTests {
    static let v1 = "*HQ,4105131188,V1,101112,A,2106.8799,S,14910.2583,E,012.30,158,241126,FFFFFBFF#"
    static let sos = "*HQ,4105131188,V1,101113,A,2106.8799,S,14910.2583,E,0.00,0,241126,FFFFFBFD#"
    static let empty = "*HQ,4105131188,V1,101142,V,,N,,E,0.00,0,241126,FFFFFBFF#"

    @Test func aV1FrameLogsTheDeviceInAndIsPublishedAsAPosition() throws {
        var h = PipelineHarness()
        h.feed(Self.v1)
        #expect(h.outputs.contains(.loggedIn(deviceID: "4105131188", previous: nil)))
        let messages = h.messages
        #expect(messages.map(\.topic) == ["cctr/4105131188/position"])
        #expect(messages[0].retain)
        let p = try JSONValue.parse(messages[0].payload)
        #expect(p["message_type"]?.string == "V1")
        #expect(p["latitude"]?.number == -21.114665)
        #expect(p["longitude"]?.number == 149.170972)
        #expect(p["speed_kmh"]?.number == 22.78, "12.30 knots")
        #expect(p["course"]?.number == 158)
        #expect(p["status_bits"]?.string == "FFFFFBFF")
        #expect(p["odometer_m"]?.isNull == true)
        #expect(p["fix_time"]?.string == "2026-11-24T10:11:12Z")
        #expect(p["device_time"]?.string == "2026-11-24T10:11:12Z")
        #expect(p["time_source"]?.string == "gps")
        #expect(p["source"]?["protocol"]?.string == "h02")
        #expect(h.pipeline.source.protocolName == .h02)
    }

    @Test func v1IsAnsweredWithV4AndTheReceiveTimeInUTC() {
        var h = PipelineHarness()
        h.feed(Self.v1, at: 1_795_550_102_314)  // 2026-11-24T19:55:02.314Z
        let answers = h.outputs.compactMap { output -> String? in
            if case .answer(let bytes) = output { return String(decoding: bytes, as: UTF8.self) }
            return nil
        }
        #expect(answers == ["*HQ,4105131188,V4,V1,20261124195502#"])
    }

    /// A forged short frame gets no answer: the bridge never sends more bytes than it got.
    @Test func answersAreNeverLongerThanTheFrame() {
        var h = PipelineHarness(transport: .udp)
        h.feed("*HQ,1,V1#")
        #expect(!h.outputs.contains { if case .answer = $0 { true } else { false } })
        #expect(h.outputs.contains(.loggedIn(deviceID: "1", previous: nil)))
    }

    @Test func statusWordAlarmGoesOnAlarmBesideThePosition() throws {
        var h = PipelineHarness()
        h.feed(Self.sos)
        #expect(h.messages.map(\.topic) == ["cctr/4105131188/position", "cctr/4105131188/alarm"])
        let alarm = try JSONValue.parse(h.messages[1].payload)
        #expect(alarm["alarm"]?.string == "sos")
        #expect(alarm["code"]?.string == "1")
        #expect(alarm["label"]?.string == "")
        #expect(alarm["message_type"]?.string == "V1")
        #expect(alarm["position"]?["latitude"]?.number == -21.114665)
    }

    @Test func anEmptyBlockIsAnEventNeverAPositionAtZero() throws {
        var h = PipelineHarness()
        h.feed(Self.empty)
        #expect(h.messages.map(\.topic) == ["cctr/4105131188/event"])
        let event = try JSONValue.parse(h.messages[0].payload)
        #expect(event["kind"]?.string == "no_position")
        #expect(event["body"]?.string == "101142,V,,N,,E,0.00,0,241126,FFFFFBFF")
    }

    @Test func heartbeatsLogInButPublishNothing() {
        var h = PipelineHarness()
        h.feed("*HQ,4105131188,LINK,101112,20,8,100,0,0,241126,FFFFFBFF#")
        #expect(h.outputs.contains(.loggedIn(deviceID: "4105131188", previous: nil)))
        #expect(h.messages.isEmpty)
    }

    @Test func binaryFramesArePositionsInKilometresPerHour() throws {
        var h = PipelineHarness()
        h.feed(bytes: H02Capture.hex("2441060116601245431311165035313006004318210e000000fffffbffff0024"))
        h.close()
        let p = try JSONValue.parse(try #require(h.messages.first { $0.topic == "cctr/4106011660/position" }).payload)
        #expect(p["message_type"]?.string == "binary")
        #expect(p["latitude"]?.number == 50.58855)
        #expect(p["longitude"]?.number == 4.53035)
        #expect(p["fix_time"]?.string == "2016-11-13T12:45:43Z")
    }

    @Test func aFrameOfTheOtherProtocolOnATCPConnectionIsAProtocolSwitch() throws {
        var h = PipelineHarness()
        h.feed(Frames.login("CC8011400042499"))
        _ = h.drain()
        h.feed(Self.v1)
        let messages = h.drain()
        #expect(messages.map(\.kind) == [.deadLetter(.protocolSwitch)])
        let dead = try JSONValue.parse(messages[0].payload)
        #expect(dead["raw"]?.string == Self.v1)
        #expect(dead["device_id"]?.string == "CC8011400042499")
        #expect(h.pipeline.deviceID == "CC8011400042499")
    }

    @Test func udpDatagramsAreJudgedOneByOne() {
        var h = PipelineHarness(transport: .udp)
        h.feed(Frames.login("CC8011400042499"))
        h.pipeline.endOfInput(at: PipelineHarness.receivedAt, into: &h.outputs)
        h.feed(Self.v1)
        h.pipeline.endOfInput(at: PipelineHarness.receivedAt, into: &h.outputs)
        #expect(h.messages.map(\.topic) == ["cctr/CC8011400042499/position", "cctr/4105131188/position"])
        #expect(h.outputs.contains(.loggedIn(deviceID: "4105131188", previous: "CC8011400042499")))
    }

    @Test func anEmptyIDMeansTheConnectionsDevice() {
        var h = PipelineHarness()
        h.feed(Self.v1)
        h.feed("*HQ,,V1,101212,A,2106.8799,S,14910.2583,E,0.00,0,241126,FFFFFBFF#")
        #expect(h.messages.map(\.topic) == ["cctr/4105131188/position", "cctr/4105131188/position"])
    }

    @Test func aReplyWithoutAPositionIsDecodedButNotPublishedByThePipeline() {
        var h = PipelineHarness()
        h.feed(Self.v1)
        _ = h.drain()
        h.outputs.removeAll()
        h.feed("*HQ,4105131188,V4,S20,DONE#")
        #expect(h.messages.isEmpty)
        let decoded = h.outputs.compactMap { output -> DeviceMessage? in
            if case .decoded(let message, _) = output { return message }
            return nil
        }
        #expect(decoded.map(\.isCommandReply) == [true])
        #expect(decoded.first?.body == "S20,DONE")
    }

    /// A persisted UDP binding binds the session at the first frame that names no device.
    @Test func aResumedUDPBindingTakesEffectAtTheFirstAnonymousFrame() {
        var h = PipelineHarness(transport: .udp)
        h.pipeline.resume(deviceID: "CC8011400042499")
        #expect(h.outputs.isEmpty)
        h.feed(Frames.live())
        #expect(h.outputs.first == .loggedIn(deviceID: "CC8011400042499", previous: nil))
        #expect(h.messages.map(\.topic) == ["cctr/CC8011400042499/position"])
    }
}
