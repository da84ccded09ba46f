import TrackerCodec

/// Home Assistant's device-based MQTT discovery document for one tracker (Home Assistant
/// 2024.11 or later), on `<ha-prefix>/device/cctr_<id>/config`, retained.
///
/// Everything Home Assistant shows is read from the bridge's own topics through templates, so
/// the bridge never publishes a second copy of a position for Home Assistant. Invalid fixes
/// (`valid: false`, possibly filler coordinates) must not move the tracker or zero the
/// sensors, so every template falls back to the entity's current state (`this`) for them.
/// Unique ids derive from the device id only: re-publishing the document (after a Home
/// Assistant restart, with a new name) updates the same entities.
public struct HomeAssistantDiscovery: Sendable {
    /// The `o` (origin) block: who published the document.
    public struct Origin: Sendable, Equatable {
        public var name: String
        public var softwareVersion: String
        public var url: String

        public init(name: String = "cctr-bridge", softwareVersion: String, url: String = HomeAssistantDiscovery.projectURL) {
            self.name = name
            self.softwareVersion = softwareVersion
            self.url = url
        }
    }

    public static let projectURL = "https://github.com/cctr-bridge/cctr-bridge"

    /// The discovery prefix (`--ha-prefix`), validated like a topic base by the caller.
    public let prefix: String
    public let topics: TopicLayout
    public let origin: Origin

    public init(prefix: String, topics: TopicLayout, origin: Origin) {
        self.prefix = prefix
        self.topics = topics
        self.origin = origin
    }

    /// Where Home Assistant announces itself (`online` after a restart): the cue to publish
    /// every document again.
    public var statusTopic: String { "\(prefix)/status" }

    public func configTopic(deviceID: String) -> String {
        "\(prefix)/device/cctr_\(deviceID)/config"
    }

    /// The retained document; `name` is the device's display name (`devices.<id>.name`);
    /// `protocolName` picks the manufacturer and model shown (carscop: Carscop CCTR-801;
    /// H02: the many CCTR models and look-alikes that speak it).
    public func document(deviceID: String, name: String, protocolName: ProtocolName = .carscop) -> OutboundMessage {
        OutboundMessage(
            topic: configTopic(deviceID: deviceID),
            payload: payload(deviceID: deviceID, name: name, protocolName: protocolName),
            qos: 1, retain: true, kind: .homeAssistant, deviceID: deviceID
        )
    }

    /// The retained empty message that deletes the document, and with it the device, from
    /// Home Assistant.
    public func removal(deviceID: String) -> OutboundMessage {
        OutboundMessage(
            topic: configTopic(deviceID: deviceID), payload: [], qos: 1, retain: true, kind: .homeAssistant, deviceID: deviceID
        )
    }

    // MARK: - Templates

    /// Device tracker attributes: a valid fix sets the location (`latitude`, `longitude`,
    /// `gps_accuracy` are what Home Assistant's MQTT device tracker reads from its JSON
    /// attributes); an invalid one re-sends the current attributes, so the tracker stays at
    /// the last good position. GPS trackers of this kind report no accuracy: 10 m is the
    /// nominal figure for a consumer GPS fix.
    static let trackerAttributesTemplate =
        "{% if value_json.valid %}{{ {'latitude': value_json.latitude, 'longitude': value_json.longitude, "
        + "'gps_accuracy': 10, 'speed_kmh': value_json.speed_kmh, 'course': value_json.course, "
        + "'fix_time': value_json.fix_time} | tojson }}{% else %}{{ this.attributes | tojson }}{% endif %}"

    /// A sensor's state from a valid fix; on an invalid fix the current state is kept, or
    /// `None` (unknown) while there is none, since a numeric sensor refuses `unknown`.
    static func sensorValueTemplate(field: String) -> String {
        "{% if value_json.valid %}{{ value_json.\(field) }}"
            + "{% elif this.state in ('unknown', 'unavailable') %}None{% else %}{{ this.state }}{% endif %}"
    }

    static let alarmAttributesTemplate =
        "{{ {'alarm': value_json.alarm, 'code': value_json.code, 'label': value_json.label, "
        + "'time': value_json.time} | tojson }}"

    // MARK: - Document

    private func payload(deviceID: String, name: String, protocolName: ProtocolName) -> [UInt8] {
        let position = topics.device(deviceID, .position)
        let alarm = topics.device(deviceID, .alarm)
        let uniqueBase = "cctr_\(deviceID)"
        var w = JSONWriter(capacity: 3072)
        w.beginObject()
        w.key("dev")
        w.beginObject()
        w.key("ids")
        w.beginArray()
        w.string(uniqueBase)
        w.endArray()
        w.key("name")
        w.string(name)
        w.key("mf")
        w.string(protocolName == .h02 ? "CCTR / H02 tracker" : "Carscop")
        w.key("mdl")
        w.string(protocolName == .h02 ? "H02" : "CCTR-801")
        w.key("sn")
        w.string(deviceID)
        w.endObject()

        w.key("o")
        w.beginObject()
        w.key("name")
        w.string(origin.name)
        w.key("sw")
        w.string(origin.softwareVersion)
        w.key("url")
        w.string(origin.url)
        w.endObject()

        w.key("avty")
        w.beginArray()
        for topic in [topics.bridge(.state), topics.device(deviceID, .availability)] {
            w.beginObject()
            w.key("t")
            w.string(topic)
            w.endObject()
        }
        w.endArray()
        w.key("avty_mode")
        w.string("all")
        w.key("qos")
        w.integer(1)

        w.key("cmps")
        w.beginObject()
        w.key("tracker")
        w.beginObject()
        w.key("p")
        w.string("device_tracker")
        w.key("uniq_id")
        w.string("\(uniqueBase)_tracker")
        // null: the entity takes the device's name.
        w.key("name")
        w.null()
        w.key("src_type")
        w.string("gps")
        w.key("json_attr_t")
        w.string(position)
        w.key("json_attr_tpl")
        w.string(Self.trackerAttributesTemplate)
        w.endObject()

        writeSensor(&w, key: "speed", uniqueBase: uniqueBase, name: "Speed", field: "speed_kmh", stateTopic: position) { w in
            w.key("dev_cla")
            w.string("speed")
            w.key("stat_cla")
            w.string("measurement")
            w.key("unit_of_meas")
            w.string("km/h")
            w.key("sug_dsp_prc")
            w.integer(1)
        }
        writeSensor(&w, key: "course", uniqueBase: uniqueBase, name: "Course", field: "course", stateTopic: position) { w in
            w.key("ic")
            w.string("mdi:compass")
            // Angles average on the circle (359° and 1° give 0°, not 180°); Home Assistant 2025.2+.
            w.key("stat_cla")
            w.string("measurement_angle")
            w.key("unit_of_meas")
            w.string("°")
            w.key("sug_dsp_prc")
            w.integer(0)
        }
        writeSensor(&w, key: "odometer", uniqueBase: uniqueBase, name: "Odometer", field: "odometer_m", stateTopic: position) { w in
            w.key("dev_cla")
            w.string("distance")
            // A device reset to 0 starts a new cycle instead of a negative distance.
            w.key("stat_cla")
            w.string("total_increasing")
            w.key("unit_of_meas")
            w.string("m")
        }

        w.key("alarm")
        w.beginObject()
        w.key("p")
        w.string("binary_sensor")
        w.key("uniq_id")
        w.string("\(uniqueBase)_alarm")
        w.key("name")
        w.string("Alarm")
        w.key("dev_cla")
        w.string("problem")
        w.key("stat_t")
        w.string(alarm)
        // Every message on `alarm` is an alarm; `off_dly` turns the sensor off again.
        w.key("val_tpl")
        w.string("ON")
        w.key("off_dly")
        w.integer(60)
        w.key("json_attr_t")
        w.string(alarm)
        w.key("json_attr_tpl")
        w.string(Self.alarmAttributesTemplate)
        w.endObject()
        w.endObject()
        w.endObject()
        return w.bytes
    }

    private func writeSensor(
        _ w: inout JSONWriter, key: StaticString, uniqueBase: String, name: String, field: String, stateTopic: String,
        details: (inout JSONWriter) -> Void
    ) {
        w.key(key)
        w.beginObject()
        w.key("p")
        w.string("sensor")
        w.key("uniq_id")
        w.string("\(uniqueBase)_\(key)")
        w.key("name")
        w.string(name)
        details(&w)
        w.key("stat_t")
        w.string(stateTopic)
        w.key("val_tpl")
        w.string(Self.sensorValueTemplate(field: field))
        w.endObject()
    }
}
