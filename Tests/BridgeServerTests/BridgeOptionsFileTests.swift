import BridgeCore
import BridgeServer
import Testing

@Suite struct BridgeOptionsFileTests {
    private let files: BridgeOptionsTestFiles

    init() throws {
        files = try BridgeOptionsTestFiles()
    }

    private func load(_ name: String, _ text: String) throws -> BridgeOptions {
        try BridgeOptions.load(arguments: [:], environment: [:], configFile: try files.write(name, text))
    }

    @Test func yamlNestedAndFlatKeysGiveTheSameOptions() throws {
        let flat = try load(
            "flat.yaml",
            """
            mqtt.session.expiry: 42
            mqtt.url: "mqtt://broker:1884"
            spool.sync.interval: 250
            ha.discovery: true
            """)
        let nested = try load(
            "nested.yml",
            """
            mqtt:
              session:
                expiry: 42
              url: "mqtt://broker:1884"
            spool: {sync: {interval: 250}}
            ha:
              discovery: yes
            """)
        let mixed = try load(
            "mixed.yaml",
            """
            mqtt:
              session.expiry: 42
            mqtt.url: "mqtt://broker:1884"
            spool.sync:
              interval: 250
            ha.discovery: "on"
            """)
        #expect(flat == nested)
        #expect(flat == mixed)
        #expect(flat.mqttSessionExpiry == .seconds(42) && flat.spoolSyncInterval == .milliseconds(250) && flat.haDiscovery)
        #expect(flat.mqttURL.first?.host == "broker" && flat.mqttURL.first?.port == 1884)
    }

    @Test func jsonNestedAndFlatKeysGiveTheSameOptions() throws {
        let flat = try load("flat.json", #"{"mqtt.session.expiry": 42, "publish.raw": true, "device.tz": "+01:00"}"#)
        let nested = try load(
            "nested.JSON", #"{"mqtt": {"session": {"expiry": 42}}, "publish": {"raw": true}, "device": {"tz": "+01:00"}}"#)
        #expect(flat == nested)
        #expect(flat.mqttSessionExpiry == .seconds(42) && flat.publishRaw && flat.deviceTZ == 3600)
    }

    @Test func nullAndEmptyFilesMeanDefaults() throws {
        #expect(try load("empty.yaml", "") == .defaults)
        #expect(try load("comments.yaml", "# nothing\n") == .defaults)
        #expect(try load("nulls.yaml", "spool.dir: null\nmqtt.session.expiry: ~\ndevices:\n") == .defaults)
        #expect(try load("nulls.json", #"{"spool.dir": null, "devices": {}}"#) == .defaults)
    }

    @Test func perDeviceOverridesNestedAndFlat() throws {
        let nested = try load(
            "d.yaml",
            """
            device.tz: "+02:00"
            speed.unit: mph
            device.password: "111111"
            devices:
              CC8011400042499:
                tz: "+08:00"
                speed_unit: knots
                password: "654321"
                name: Van 42
              tracker_2:
                name: Trailer
            """)
        let flat = try load(
            "d.json",
            #"""
            {"device.tz": "+02:00", "speed.unit": "mph", "device.password": "111111",
             "devices.CC8011400042499.tz": "+08:00", "devices.CC8011400042499.speed_unit": "knots",
             "devices.CC8011400042499.password": "654321", "devices.CC8011400042499.name": "Van 42",
             "devices": {"tracker_2": {"name": "Trailer"}}}
            """#)
        #expect(nested == flat)
        #expect(nested.devices["CC8011400042499"] == DeviceOverride(tz: 28_800, speedUnit: .knots, password: "654321", name: "Van 42"))
        #expect(nested.devices["tracker_2"] == DeviceOverride(name: "Trailer"))
        let table = nested.deviceSettings
        #expect(table["CC8011400042499"] == DeviceSettings(timeZoneOffsetSeconds: 28_800, speedUnit: .knots))
        #expect(table["tracker_2"] == DeviceSettings(timeZoneOffsetSeconds: 7200, speedUnit: .mph))
        #expect(table["other"] == DeviceSettings(timeZoneOffsetSeconds: 7200, speedUnit: .mph))
        #expect(nested.devicePassword(for: "CC8011400042499") == "654321")
        #expect(nested.devicePassword(for: "tracker_2") == "111111")
    }

    /// A bad JSON config file names the line and column of its first problem; a trailing
    /// comma (which Foundation's decoder would accept) is one.
    @Test(arguments: [
        ("{\n  \"publish.raw\": true,\n}", "line 3, column 1: expected a string key"),
        ("{\n  \"publish.raw\": true\n  \"spool.dir\": \"/s\"\n}", "line 3, column 3"),
        ("{\"a\": [1, 2,]}", "line 1, column 13"),
    ])
    func badJSONNamesTheLineAndColumn(_ text: String, _ expected: String) {
        do {
            _ = try load("bad.json", text)
            Issue.record("loaded a bad file")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
            #expect("\(error)".contains("bad.json"), "\(error)")
        }
    }
}
