import BridgeCore
import TrackerCodec
import Foundation
import TestSupport
import Testing

/// The Home Assistant discovery document: its shape (against `schemas/ha-discovery.schema.json`)
/// and what its templates make of valid and invalid fixes, rendered with Jinja2 as Home
/// Assistant renders them.
struct HomeAssistantDiscoveryTests {
    static let discovery = HomeAssistantDiscovery(
        prefix: "homeassistant", topics: try! TopicLayout(base: "fleet/cctr", instance: "edge"),
        origin: .init(softwareVersion: "9.8.7")
    )
    static let device = "CC8011400042499"

    static func document(name: String = "Van 42") throws -> (OutboundMessage, JSONValue) {
        let message = discovery.document(deviceID: device, name: name)
        return (message, try JSONValue.parse(message.payload))
    }

    static func line(_ message: OutboundMessage) -> String {
        let payload = message.payload.isEmpty ? "\"\"" : String(decoding: message.payload, as: UTF8.self)
        return #"{"topic":"\#(message.topic)","payload":\#(payload),"qos":\#(message.qos),"retain":\#(message.retain)}"#
    }

    @Test func documentIsRetainedOnTheDeviceConfigTopicAndValidatesAgainstTheSchema() throws {
        let (message, _) = try Self.document()
        #expect(message.topic == "homeassistant/device/cctr_CC8011400042499/config")
        #expect(message.retain && message.qos == 1 && message.kind == .homeAssistant)
        let removal = Self.discovery.removal(deviceID: Self.device)
        #expect(removal.topic == message.topic && removal.payload.isEmpty && removal.retain && removal.qos == 1)
        let result = try PayloadScripts.validate(lines: [Self.line(message), Self.line(removal)], arguments: ["--ha-prefix", "homeassistant"])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        #expect(result.output.contains("2 passed, 0 failed"), "\(result.output)")
    }

    @Test func deviceOriginAndAvailability() throws {
        let (_, doc) = try Self.document()
        #expect(doc["dev"]?["ids"] == .array([.string("cctr_CC8011400042499")]))
        #expect(doc["dev"]?["name"]?.string == "Van 42")
        #expect(doc["dev"]?["mf"]?.string == "Carscop" && doc["dev"]?["mdl"]?.string == "CCTR-801")
        #expect(doc["o"]?["name"]?.string == "cctr-bridge" && doc["o"]?["sw"]?.string == "9.8.7")
        #expect(doc["o"]?["url"]?.string?.hasPrefix("https://") == true)
        #expect(doc["avty"] == .array([
            .object(["t": .string("fleet/cctr/bridge/edge/state")]),
            .object(["t": .string("fleet/cctr/CC8011400042499/availability")]),
        ]))
        #expect(doc["avty_mode"]?.string == "all")
    }

    @Test func componentsReadTheBridgeTopicsWithStableUniqueIDs() throws {
        let (_, first) = try Self.document(name: "Van 42")
        let (_, renamed) = try Self.document(name: "Truck 7")
        guard case .object(let components)? = first["cmps"] else {
            Issue.record("no cmps")
            return
        }
        #expect(Set(components.keys) == ["tracker", "speed", "course", "odometer", "alarm"])
        for (key, component) in components {
            #expect(component["uniq_id"]?.string == "cctr_CC8011400042499_\(key)")
            #expect(renamed["cmps"]?[key]?["uniq_id"] == component["uniq_id"], "unique ids do not depend on the name")
        }
        let position = "fleet/cctr/CC8011400042499/position"
        #expect(components["tracker"]?["p"]?.string == "device_tracker")
        #expect(components["tracker"]?["json_attr_t"]?.string == position)
        for key in ["speed", "course", "odometer"] {
            #expect(components[key]?["p"]?.string == "sensor")
            #expect(components[key]?["stat_t"]?.string == position)
        }
        #expect(components["speed"]?["unit_of_meas"]?.string == "km/h")
        #expect(components["course"]?["unit_of_meas"]?.string == "°")
        #expect(components["odometer"]?["unit_of_meas"]?.string == "m")
        #expect(components["alarm"]?["p"]?.string == "binary_sensor")
        #expect(components["alarm"]?["stat_t"]?.string == "fleet/cctr/CC8011400042499/alarm")
        #expect(components["alarm"]?["off_dly"] == .number(60))
    }

    static let validFix = #"{"v":1,"id":"9f2c61d0a4b3e587","device_id":"CC8011400042499","message_type":"UB05","fix_time":"2015-08-17T16:02:54Z","device_time":"2015-08-17T16:02:54Z","received_at":"2026-11-24T19:55:02.314Z","time_source":"gps","valid":true,"latitude":-21.114665,"longitude":149.170972,"speed_kmh":12.5,"course":158.35,"status_bits":"11111111","odometer_m":4200,"source":{"protocol":"carscop","transport":"tcp","peer":"203.0.113.9:40112","instance":"edge"}}"#
    static let invalidFix = #"{"v":1,"id":"0f2c61d0a4b3e587","device_id":"CC8011400042499","message_type":"UD00","fix_time":"2017-08-21T22:31:21Z","device_time":"2017-08-21T22:31:21Z","received_at":"2026-11-24T19:55:03.314Z","time_source":"device","valid":false,"latitude":null,"longitude":null,"speed_kmh":0.0,"course":0.0,"status_bits":null,"odometer_m":null,"source":{"protocol":"carscop","transport":"tcp","peer":"203.0.113.9:40112","instance":"edge"}}"#

    @Test func trackerTakesValidFixesAndKeepsItsLocationOnInvalidOnes() throws {
        let (_, doc) = try Self.document()
        let template = try #require(doc["cmps"]?["tracker"]?["json_attr_tpl"]?.string)
        let current: [String: Any] = [
            "state": "not_home",
            "attributes": ["latitude": 1.5, "longitude": 2.5, "gps_accuracy": 10, "source_type": "gps"],
        ]
        let rendered = try PayloadScripts.renderTemplates([
            ["template": template, "payload": Self.validFix, "this": current],
            ["template": template, "payload": Self.invalidFix, "this": current],
        ])
        let valid = try JSONValue.parse(Array(rendered[0].utf8))
        #expect(valid["latitude"] == .number(-21.114665))
        #expect(valid["longitude"] == .number(149.170972))
        #expect(valid["gps_accuracy"]?.number != nil)
        let kept = try JSONValue.parse(Array(rendered[1].utf8))
        #expect(kept["latitude"] == .number(1.5) && kept["longitude"] == .number(2.5), "an invalid fix does not move the tracker")
    }

    @Test func sensorsTakeValidFixesAndKeepTheirStateOnInvalidOnes() throws {
        let (_, doc) = try Self.document()
        var cases: [[String: Any]] = []
        let fields = [("speed", "12.5"), ("course", "158.35"), ("odometer", "4200")]
        for (key, _) in fields {
            let template = try #require(doc["cmps"]?[key]?["val_tpl"]?.string)
            cases.append(["template": template, "payload": Self.validFix, "this": ["state": "3.0", "attributes": [:]]])
            cases.append(["template": template, "payload": Self.invalidFix, "this": ["state": "3.0", "attributes": [:]]])
            cases.append(["template": template, "payload": Self.invalidFix, "this": ["state": "unknown", "attributes": [:]]])
        }
        let rendered = try PayloadScripts.renderTemplates(cases)
        for (index, (key, expected)) in fields.enumerated() {
            #expect(rendered[index * 3] == expected, "\(key): a valid fix sets the state")
            #expect(rendered[index * 3 + 1] == "3.0", "\(key): an invalid fix keeps the state")
            #expect(rendered[index * 3 + 2] == "None", "\(key): no state yet stays unknown")
        }
    }

    @Test func alarmSensorTurnsOnWithAlarmDetails() throws {
        let (_, doc) = try Self.document()
        let alarm = #"{"v":1,"id":"1f2c61d0a4b3e587","device_id":"CC8011400042499","message_type":"UA01","alarm":"sos","code":"2","label":"Hi-jack","time":"2015-08-17T16:02:54Z"}"#
        let rendered = try PayloadScripts.renderTemplates([
            ["template": try #require(doc["cmps"]?["alarm"]?["val_tpl"]?.string), "payload": alarm, "this": ["state": "off", "attributes": [:]]],
            ["template": try #require(doc["cmps"]?["alarm"]?["json_attr_tpl"]?.string), "payload": alarm, "this": ["state": "off", "attributes": [:]]],
        ])
        #expect(rendered[0] == "ON")
        let attributes = try JSONValue.parse(Array(rendered[1].utf8))
        #expect(attributes["alarm"]?.string == "sos" && attributes["label"]?.string == "Hi-jack" && attributes["code"]?.string == "2")
    }

    @Test func namesAreEscapedAsJSON() throws {
        let (message, doc) = try Self.document(name: #"Van "42" \ back"#)
        #expect(doc["dev"]?["name"]?.string == #"Van "42" \ back"#)
        #expect(try JSONSerialization.jsonObject(with: Data(message.payload)) is [String: Any])
    }
}
