import BridgeCore
import TrackerCodec
import Foundation
import TestSupport
import Testing

/// Typed mirrors of the contract's payloads: decoding with `JSONDecoder` proves every payload
/// kind round-trips and every listed key is present with the listed type.
struct PositionPayload: Decodable {
    struct Source: Decodable { let `protocol`, transport, peer, instance: String }
    let v: Int
    let id, device_id, message_type, fix_time, received_at, time_source: String
    let device_time: String?
    let valid: Bool
    let latitude, longitude: Double?
    let speed_kmh, course: Double
    let status_bits: String?
    let odometer_m: Int64?
    let source: Source
}

struct AlarmPayload: Decodable {
    struct Position: Decodable {
        let fix_time, time_source: String
        let device_time: String?
        let valid: Bool
        let latitude, longitude: Double?
        let speed_kmh, course: Double
        let status_bits: String?
        let odometer_m: Int64?
    }
    let v: Int
    let id, device_id, message_type, alarm, code, label, time, received_at: String
    let position: Position
    let source: PositionPayload.Source
}

struct EventPayload: Decodable {
    let v: Int
    let id, device_id, message_type, kind, received_at, body, raw: String
    let device_time: String?
    let source: PositionPayload.Source
}

struct DeadLetterPayload: Decodable {
    let v: Int
    let id, received_at, transport, peer, instance, reason, detail, raw: String
    let device_id: String?
    let raw_length: Int
    let truncated: Bool
}

@Suite struct NormalizerTests {
    let decoder = JSONDecoder()

    /// Every public frame, after a login where the frame carries no id, is published on the
    /// right topic with every value the fixture lists.
    @Test(arguments: PublicFrame.all)
    func publishesEveryPublicFrame(_ sample: PublicFrame) throws {
        var harness = PipelineHarness()
        let deviceID = sample.decoded["device_id"]?.string ?? "123456789012345"
        if sample.decoded["device_id"] == nil {
            harness.feed(Frames.vendorLogin)
            _ = harness.drain()
        }
        harness.feed(sample.frame + "\r\n")
        harness.close()
        let messages = harness.messages
        let kind = sample.decoded["kind"]?.string
        if kind == "heartbeat" {
            #expect(messages.isEmpty)
            return
        }
        try #require(messages.count == 1)
        let message = messages[0]
        #expect(message.topic == "cctr/\(deviceID)/\(kind!)")
        #expect(message.qos == 1)
        let expected = sample.decoded
        let valid = expected["valid"]!.bool!
        let position: (lat: Double?, lon: Double?, speed: Double, course: Double, bits: String?, odo: Int64?, fix: String, source: String)
        if kind == "alarm" {
            let alarm = try decoder.decode(AlarmPayload.self, from: Data(message.payload))
            #expect(alarm.alarm == expected["alarm"]?.string)
            #expect(alarm.code == expected["code"]?.string)
            #expect(alarm.label == expected["label"]?.string)
            #expect(alarm.time == alarm.position.fix_time)
            #expect(!message.retain)
            let p = alarm.position
            position = (p.latitude, p.longitude, p.speed_kmh, p.course, p.status_bits, p.odometer_m, p.fix_time, p.time_source)
        } else {
            let p = try decoder.decode(PositionPayload.self, from: Data(message.payload))
            #expect(p.v == 1)
            #expect(p.device_id == deviceID)
            #expect(p.message_type == expected["message_type"]?.string)
            #expect(p.received_at == "2026-11-24T19:55:02.314Z")
            #expect(p.source.peer == "203.0.113.9:40112" && p.source.transport == "tcp" && p.source.protocol == "carscop")
            #expect(message.retain == (valid && kind == "position"))
            position = (p.latitude, p.longitude, p.speed_kmh, p.course, p.status_bits, p.odometer_m, p.fix_time, p.time_source)
        }
        if valid {
            #expect(position.lat == expected["latitude"]?.number)
            #expect(position.lon == expected["longitude"]?.number)
            #expect(position.fix == expected["gps_time"]?.string)
            #expect(position.source == "gps")
        } else {
            #expect(position.lat == nil && position.lon == nil)
            #expect(position.fix != expected["gps_time"]?.string, "filler GPS time must not become fix_time")
            #expect(position.source == "device")
        }
        #expect(position.speed == expected["speed_kmh"]?.number)
        #expect(position.course == expected["course"]?.number)
        #expect(position.bits == expected["status_bits"]?.string)
        #expect(position.odo == expected["odometer_m"]?.number.map { Int64($0) })
        // The id is the contract's: SHA-256 of "<device_id>|<raw>" (checked against Python's hashlib below).
        #expect(try JSONValue.parse(message.payload)["id"]?.string == PayloadID.forFrame(deviceID: deviceID, raw: Array(sample.frame.utf8)))
    }

    @Test func payloadIDsMatchAnIndependentSHA256() {
        // Computed with Python: hashlib.sha256(b"CC8011400042499|*1508...^").hexdigest()[:16]
        let raw = "*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^"
        #expect(PayloadID.forFrame(deviceID: "CC8011400042499", raw: Array(raw.utf8)) == "7ba5996dfd53a06d")
        #expect(PayloadID.forDeadLetter(reason: "garbage", raw: Array("xyz".utf8)) == "c01af8b7a6cc9c4e")
    }

    @Test func deviceTimeUsesTheConfiguredOffset() throws {
        var harness = PipelineHarness(devices: DeviceSettingsTable(
            defaults: DeviceSettings(), overrides: ["123456789012345": DeviceSettings(timeZoneOffsetSeconds: 8 * 3600)]
        ))
        harness.feed(Frames.vendorLogin)
        let p = try decoder.decode(PositionPayload.self, from: Data(harness.messages[0].payload))
        // Header 2004-03-31 14:18:30 at +08:00 is 06:18:30Z, 5 s after the GPS fix.
        #expect(p.device_time == "2004-03-31T06:18:30Z")
        #expect(p.fix_time == "2004-03-31T06:18:25Z")
    }

    @Test func invalidFixFallsBackToTheHeaderWithItsOffset() throws {
        var harness = PipelineHarness(devices: DeviceSettingsTable(defaults: DeviceSettings(timeZoneOffsetSeconds: -3 * 3600)))
        harness.feed(Frames.login("ORANGE000731512"))
        harness.feed(Frames.nofix)
        let p = try decoder.decode(PositionPayload.self, from: Data(harness.messages[1].payload))
        #expect(p.time_source == "device")
        #expect(p.fix_time == "2017-08-22T01:31:21Z")
        #expect(!harness.messages[1].retain)
    }

    @Test func impossibleHeaderAndGPSTimeFallBackToTheReceiveTime() throws {
        var harness = PipelineHarness()
        harness.feed(Frames.login())
        harness.feed("*171399223121UD00256199A1203.5394S07657.7255W000.4161399255.00^")
        let p = try decoder.decode(PositionPayload.self, from: Data(harness.messages[1].payload))
        #expect(p.time_source == "server")
        #expect(p.fix_time == "2026-11-24T19:55:02Z")
        #expect(p.device_time == nil)
    }

    @Test func validFixWithImpossibleDateUsesTheHeader() throws {
        var harness = PipelineHarness()
        harness.feed(Frames.login())
        harness.feed("*161101144927UD00144927A1203.5394S07657.7255W000.4161341255.00^")
        let p = try decoder.decode(PositionPayload.self, from: Data(harness.messages[1].payload))
        #expect(p.time_source == "device")
        #expect(p.fix_time == "2016-11-01T14:49:27Z")
        #expect(p.valid)
    }

    @Test(arguments: [(SpeedUnit.kmh, 15.5), (.knots, 28.706), (.mph, 24.945)])
    func speedIsConvertedToKilometresPerHour(_ unit: SpeedUnit, _ expected: Double) throws {
        var harness = PipelineHarness(devices: DeviceSettingsTable(defaults: DeviceSettings(speedUnit: unit)))
        harness.feed(Frames.login())
        harness.feed("*160728045706UD04045706A1202.7738S07658.6489W015.5160728247.8911111111L002626^")
        let p = try decoder.decode(PositionPayload.self, from: Data(harness.messages[1].payload))
        #expect(p.speed_kmh == expected)
    }

    @Test func invalidFixWithRealCoordinatesKeepsThemButIsNotRetained() throws {
        var harness = PipelineHarness()
        harness.feed(Frames.login())
        harness.feed(Frames.live(valid: "V"))
        let p = try decoder.decode(PositionPayload.self, from: Data(harness.messages[1].payload))
        #expect(p.latitude == -12.05899 && p.longitude == -76.962092)
        #expect(!p.valid)
        #expect(!harness.messages[1].retain)
    }

    @Test func olderValidFixIsNotRetainedOverANewerOne() {
        let retained = RetainedPositions()
        var harness = PipelineHarness(retained: retained)
        harness.feed(Frames.login(time: "120000", date: "200101"))
        harness.feed(Frames.live(time: "110000", date: "200101"))
        harness.feed(Frames.live(time: "120000", date: "200101"))
        harness.feed(Frames.live(time: "130000", date: "200101"))
        #expect(harness.messages.map(\.retain) == [true, false, true, true])
        // A second connection of the same device shares the registry.
        var second = PipelineHarness(retained: retained)
        second.feed(Frames.login(time: "125959", date: "200101"))
        #expect(second.messages.map(\.retain) == [false])
    }

    @Test func unknownFrameBecomesAnEvent() throws {
        var harness = PipelineHarness()
        harness.feed(Frames.login())
        harness.feed("*161101144927ZX17hello \u{7F}world^")
        let message = harness.messages[1]
        #expect(message.topic == "cctr/DEV000000000001/event")
        #expect(!message.retain)
        let e = try decoder.decode(EventPayload.self, from: Data(message.payload))
        #expect(e.kind == "unknown_frame")
        #expect(e.message_type == "ZX17")
        #expect(e.body == "hello \u{7F}world")
        #expect(e.raw == "*161101144927ZX17hello \u{7F}world^")
        #expect(e.device_time == "2016-11-01T14:49:27Z")
    }

    @Test func deadLetterKeepsRawBytesAsLatin1AndTruncates() throws {
        var harness = PipelineHarness()
        let garbage: [UInt8] = [0xFF, 0x00 + 1, 0x22, 0x5C, 0x80, 0x41]
        harness.feed(bytes: garbage)
        harness.close()
        let d = try decoder.decode(DeadLetterPayload.self, from: Data(harness.messages[0].payload))
        #expect(d.reason == "garbage")
        #expect(d.device_id == nil)
        #expect(d.raw.unicodeScalars.map { UInt8($0.value) } == garbage)
        #expect(d.raw_length == 6 && !d.truncated)
        #expect(harness.messages[0].topic == "cctr/bridge/main/deadletter")

        var big = PipelineHarness()
        big.feed(bytes: [UInt8](repeating: UInt8(ascii: "x"), count: 1000) + [UInt8(ascii: "*")] + [UInt8](repeating: UInt8(ascii: "1"), count: 1100))
        big.close()
        let letters = try big.messages.map { try decoder.decode(DeadLetterPayload.self, from: Data($0.payload)) }
        #expect(letters.map(\.reason) == ["garbage", "oversize frame"])
        #expect(letters[1].raw_length == 1024 && letters[1].raw.count == 1024)
    }

    @Test func deadLettersAfterLoginNameTheDevice() throws {
        var harness = PipelineHarness()
        harness.feed(Frames.login())
        harness.feed("*161101144927UD00144927A9903.5394S07657.7255W000.4161101255.00^")
        let d = try decoder.decode(DeadLetterPayload.self, from: Data(harness.messages[1].payload))
        #expect(d.reason == "coordinate out of range")
        #expect(d.device_id == "DEV000000000001")
    }

    @Test func rawTopicOnlyWithPublishRaw() {
        var harness = PipelineHarness(publishRaw: true)
        harness.feed(Frames.login())
        harness.feed(Frames.heartbeat)
        let raw = harness.messages.filter { $0.kind == .raw }
        #expect(raw.count == 2)
        #expect(raw.allSatisfy { $0.qos == 0 && !$0.retain && $0.topic == "cctr/DEV000000000001/raw" })
        #expect(raw[1].payload == Array(Frames.heartbeat.utf8))
    }
}
