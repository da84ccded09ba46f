import TestSupport
import Testing
import TrackerCodec

/// Every real H02 capture, decoded to the values the protocol note gives; none of the
/// invalid or cell-only ones becomes a position.
@Suite struct H02DecoderTests {
    static let decodable = H02Capture.all.filter { $0.expect != .skip }

    @Test(arguments: H02Capture.all)
    func captureDecodesAsExpected(_ capture: H02Capture) throws {
        let message: DeviceMessage
        do {
            message = try H02.decode(capture.bytes)
        } catch {
            #expect(capture.expect == .skip, "rejected: \(error.reason.rawValue): \(error.detail)")
            return
        }
        #expect(message.protocolName == .h02)
        #expect(message.raw == capture.bytes)
        if let id = capture.values["id"] { #expect(message.deviceID == id) }
        if let type = capture.values["type"] { #expect(message.messageType == type) }
        switch capture.expect {
        case .position, .reply:
            guard message.content == .position, let fix = message.fix else {
                Issue.record("not a position: \(message.content)")
                return
            }
            #expect(message.isCommandReply == (capture.expect == .reply))
            try check(fix, capture.values)
        case .event:
            guard case .event = message.content else {
                Issue.record("not an event: \(message.content)")
                return
            }
        case .heartbeat:
            #expect(message.content == .heartbeat)
        case .skip:
            #expect(message.fix?.latitude != 0 || message.fix?.longitude != 0, "a position at 0,0")
        }
    }

    func check(_ fix: Fix, _ values: [String: String]) throws {
        if let valid = values["valid"] { #expect(fix.valid == (valid == "true")) }
        if let lat = values["lat"].flatMap(Double.init) { #expect(abs((fix.latitude ?? .nan) - lat) < 0.0000011, "latitude") }
        if let lon = values["lon"].flatMap(Double.init) { #expect(abs((fix.longitude ?? .nan) - lon) < 0.0000011, "longitude") }
        if let knots = values["knots"].flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) {
            #expect(fix.speed == .knots(knots))
        }
        if let course = values["course"].flatMap(Double.init) { #expect(fix.course == course) }
        if let status = values["status"] { #expect(fix.statusBits == status) }
        if let time = values["time"] { #expect(Self.iso(fix.dateTime) == time) }
    }

    /// No capture that the note calls a non-position (cell towers, empty or zero blocks,
    /// unknown types) decodes to a position, and no position is at 0,0.
    @Test func noInvalidOrCellOnlyCaptureIsAPosition() throws {
        for capture in Self.decodable where capture.expect == .event || capture.expect == .heartbeat {
            let message = try H02.decode(capture.bytes)
            #expect(message.fix == nil, "\(capture)")
        }
        #expect(Self.decodable.filter { $0.expect == .position }.count >= 40)
        #expect(Self.decodable.contains { $0.isBinary && $0.bytes.count == 42 })
        #expect(Self.decodable.contains { $0.isBinary && $0.bytes.count == 45 })
    }

    @Test func statusWordAlarmsFollowTheBitRules() {
        #expect(alarm("FFFFFBFE") == "vibration:0")
        #expect(alarm("FFFFFBFD") == "sos:1")
        #expect(alarm("FFFBFBFF") == "sos:18")
        #expect(alarm("FFFFFBFB") == "overspeed:2")
        #expect(alarm("FFF7FBFF") == "powerCut:19")
        #expect(alarm("FFF3FBFE") == "vibration:0", "the first rule that matches wins")
        #expect(alarm("FFFFFBFF") == nil)
        #expect(alarm("FFFDFBFF") == nil, "bit 17 is no alarm bit")
    }

    /// `name:code` of the alarm a V1 frame with this status word raises, or nil.
    func alarm(_ status: String) -> String? {
        let frame = "*HQ,4105131188,V1,101112,A,2106.8799,S,14910.2583,E,012.30,158,241126,\(status)#"
        guard let alarm = (try? H02.decode(Array(frame.utf8)))?.alarms.first else { return nil }
        return "\(alarm.name.rawValue):\(alarm.code)"
    }

    @Test func speedIsKnotsAndTheOptionalBatteryFieldIsSkipped() throws {
        let frame = "*HQ,4105131188,V1,101112,A,2106.8799,S,14910.2583,E,  3.34,158,87,241126,FFFFFBFF#"
        let message = try H02.decode(Array(frame.utf8))
        #expect(message.fix?.speed == .knots(3.34))
        #expect(message.fix?.dateTime == CivilDateTime(year: 2026, month: 11, day: 24, hour: 10, minute: 11, second: 12))
        #expect(message.deviceClock == DeviceClock(time: CivilDateTime(year: 2026, month: 11, day: 24, hour: 10, minute: 11, second: 12), isUTC: true))
    }

    @Test func v19FindsTheStatusAfterTheSIMFields() throws {
        let frame = "*HQ,135790246811220,V19,124504,A,5042.8973,N,00433.7778,E,000.00,000,200614,8968000000000000000F,460000000000000,FFFFFBFF#"
        let message = try H02.decode(Array(frame.utf8))
        #expect(message.fix?.statusBits == "FFFFFBFF")
    }

    @Test func vp1HasNoTimeSoTheFixTimeIsNotARealInstant() throws {
        let frame = "*hq,356327080425330,VP1,A,2702.7245,N,11209.1356,E,0.00,0,110518#"
        let message = try H02.decode(Array(frame.utf8))
        #expect(message.fix?.valid == true)
        #expect(message.fix?.dateTime.isRealInstant == false)
        #expect(message.deviceClock == nil)
    }

    @Test(arguments: [
        ("*HQ,4105131188,V1,101112,A,9106.8799,N,14910.2583,E,0.00,0,241126,FFFFFBFF#", RejectReason.coordinateOutOfRange),
        ("*HQ,4105131188,V1,101112,A,2166.8799,N,14910.2583,E,0.00,0,241126,FFFFFBFF#", .coordinateOutOfRange),
        ("*HQ,4105131188,V1,101112,A,21x6.8799,N,14910.2583,E,0.00,0,241126,FFFFFBFF#", .badGPSBlock),
        ("*HQ,4105131188,V1,101112,A,2106.8799,N,14910.2583,E,0.00,0,2411,FFFFFBFF#", .badGPSBlock),
        ("*HQ,bri/dge,V1#", .badDeviceID),
        ("*HQ,bridge,LINK#", .badDeviceID),
        ("*HQ#", .badHeader),
    ])
    func malformedFramesAreRejectedWithAReason(_ frame: String, _ reason: RejectReason) {
        #expect(throws: FrameRejection.self) { try H02.decode(Array(frame.utf8)) }
        do {
            _ = try H02.decode(Array(frame.utf8))
        } catch {
            #expect(error.reason == reason)
            #expect(error.raw == Array(frame.utf8))
        }
    }

    @Test func binaryFramesWithNonBCDDigitsAreRejected() {
        var bytes = H02Capture.hex("2441060116601245431311165035313006004318210e000000fffffbffff0024")
        bytes[6] = 0x1A
        #expect(throws: FrameRejection.self) { try H02.decode(bytes) }
    }

    @Test func answersV1AndNBRWithV4AndTheUTCTime() throws {
        let now = CivilDateTime(year: 2026, month: 11, day: 24, hour: 10, minute: 13, second: 5)
        let v1 = try H02.decode(Array("*HQ,4105131188,V1,101112,A,2106.8799,S,14910.2583,E,012.30,158,241126,FFFFFBFF#".utf8))
        #expect(H02.answer(to: v1, deviceID: "4105131188", now: now).map { String(decoding: $0, as: UTF8.self) }
            == "*HQ,4105131188,V4,V1,20261124101305#")
        let link = try H02.decode(Array("*HQ,4105131188,LINK,101112,20,8,100,0,0,241126,FFFFFBFF#".utf8))
        #expect(H02.answer(to: link, deviceID: "4105131188", now: now) == nil)
    }

    @Test func commandsCarryTheSendTimeAfterTheCommandWord() {
        let now = CivilDateTime(year: 2026, month: 11, day: 24, hour: 10, minute: 13, second: 0)
        let frame = H02.frameCommand("S20,1,1", deviceID: "4105131188", now: now, deviceClock: now)
        #expect(String(decoding: frame, as: UTF8.self) == "*HQ,4105131188,S20,101300,1,1#")
        #expect(String(decoding: H02.frameCommand("S17", deviceID: "1", now: now, deviceClock: now), as: UTF8.self) == "*HQ,1,S17,101300#")
    }

    /// Every decodable text capture splits identically at every byte boundary; binary ones too
    /// when the connection's binary length is configured.
    @Test(arguments: decodable)
    func splitsIdenticallyAtEveryBoundary(_ capture: H02Capture) {
        let bytes = capture.bytes
        let options = CodecOptions(h02BinaryLength: capture.isBinary ? .fixed(bytes.count) : .auto)
        let whole = SplitterHarness.events(bytes, chunks: [bytes.count], options: options)
        #expect(whole == [.frame(bytes, protocolIndex: 1)])
        for split in 1..<bytes.count {
            #expect(SplitterHarness.events(bytes, chunks: [split, bytes.count - split], options: options) == whole, "split at \(split)")
        }
    }

    /// All text captures and the carscop public frames joined in one stream (a mixed fleet's
    /// frames replayed on one connection), split in two at every boundary.
    @Test func mixedStreamSplitsIdenticallyAtEveryBoundary() {
        var stream: [UInt8] = []
        var expected: [SplitterEvent] = []
        let carscop = PublicFrame.all.map { Array($0.frame.utf8) }
        for (index, capture) in Self.decodable.filter({ !$0.isBinary }).enumerated() {
            stream += capture.bytes + [0x0D, 0x0A]
            expected.append(.frame(capture.bytes, protocolIndex: 1))
            let frame = carscop[index % carscop.count]
            stream += frame
            expected.append(.frame(frame, protocolIndex: 0))
        }
        #expect(SplitterHarness.events(stream, chunks: [stream.count]) == expected)
        for split in stride(from: 1, to: stream.count, by: 3) {
            #expect(SplitterHarness.events(stream, chunks: [split, stream.count - split]) == expected)
        }
    }

    static func iso(_ t: CivilDateTime) -> String {
        PublicFramesTests.iso(t)
    }
}
