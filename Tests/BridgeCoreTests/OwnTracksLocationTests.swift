import BridgeCore
import TrackerCodec
import Foundation
import TestSupport
import Testing

/// OwnTracks locations built from the bridge's position payloads.
struct OwnTracksLocationTests {
    static func positions(_ frames: [String], devices: DeviceSettingsTable = DeviceSettingsTable()) -> [OutboundMessage] {
        var harness = PipelineHarness(devices: devices)
        for frame in frames { harness.feed(frame) }
        return harness.messages.filter { $0.kind == .position }
    }

    @Test func validFixBecomesALocation() throws {
        let messages = Self.positions([Frames.login("CC8011400042499")])
        let message = try #require(messages.first)
        let location = try #require(OwnTracksLocation(positionPayload: message.payload))
        #expect(location == OwnTracksLocation(
            latitude: -21.114665, longitude: 149.170972, timestamp: 1_439_827_374, trackerID: "99", velocity: 0, course: 158
        ))
        let out = location.message(base: "owntracks/fleet", deviceID: "CC8011400042499")
        #expect(out.topic == "owntracks/fleet/CC8011400042499" && out.retain && out.qos == 1 && out.kind == .ownTracks)
        let json = try JSONValue.parse(out.payload)
        #expect(json == .object([
            "_type": .string("location"), "lat": .number(-21.114665), "lon": .number(149.170972), "tst": .number(1_439_827_374),
            "tid": .string("99"), "vel": .number(0), "cog": .number(158),
        ]))
        let line = #"{"topic":"\#(out.topic)","payload":\#(String(decoding: out.payload, as: UTF8.self)),"qos":1,"retain":true}"#
        let result = try PayloadScripts.validate(lines: [line], arguments: ["--owntracks-base", "owntracks/fleet"])
        #expect(result.status == 0 && result.output.contains("1 passed, 0 failed"), "\(result.output)\(result.errors)")
    }

    @Test func speedFollowsTheDeviceSpeedUnitThroughThePositionPayload() throws {
        // 54.0 knots = 100.008 km/h.
        let frame = "*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E054.0150817359.6011111111L000000^"
        let devices = DeviceSettingsTable(defaults: DeviceSettings(timeZoneOffsetSeconds: 0, speedUnit: .knots))
        let message = try #require(Self.positions([frame], devices: devices).first)
        let location = try #require(OwnTracksLocation(positionPayload: message.payload))
        #expect(location.velocity == 100)
        #expect(location.course == 360, "359.6 rounds up to 360, which OwnTracks accepts")
    }

    @Test func invalidFixesAndOtherPayloadsGiveNoLocation() throws {
        let messages = Self.positions([Frames.login("CC8011400042499", valid: "V"), Frames.nofix])
        #expect(messages.count == 2)
        for message in messages {
            #expect(OwnTracksLocation(positionPayload: message.payload) == nil)
        }
        #expect(OwnTracksLocation(positionPayload: Array("online".utf8)) == nil)
        #expect(OwnTracksLocation(positionPayload: []) == nil)
    }

    @Test func trackerIDIsTheLastTwoCharactersOfTheID() throws {
        let message = try #require(Self.positions([Frames.login("7")]).first)
        #expect(OwnTracksLocation(positionPayload: message.payload)?.trackerID == "7")
        let long = try #require(Self.positions([Frames.login("ABC-x_")]).first)
        #expect(OwnTracksLocation(positionPayload: long.payload)?.trackerID == "x_")
    }
}
