import BridgeServer
import Mosquitto
import Testing

@Suite struct BridgeOptionsValidationTests {
    private func error(
        _ arguments: [String: [String]] = [:], env: [String: String] = [:], file: String? = nil
    ) -> ConfigurationError? {
        do {
            _ = try BridgeOptions.load(arguments: arguments, environment: env, configFile: file)
            return nil
        } catch {
            return error
        }
    }

    /// Values each option refuses, given as a flag.
    @Test(arguments: [
        ("listen", "0.0.0.0"), ("listen", "0.0.0.0:70000"), ("listen", "sctp://0.0.0.0:1"),
        ("mqtt-url", "http://broker:1883"), ("mqtt-url", "mqtt://user:pass@broker:1883"), ("mqtt-url", "mqtt://"),
        ("mqtt-url", "mqtt://broker:0"), ("mqtt-url", "mqtt://broker/path"),
        ("mqtt-session-expiry", "-1"), ("mqtt-session-expiry", "abc"), ("mqtt-session-expiry", "1.5"),
        ("mqtt-max-inflight", "0"), ("mqtt-max-inflight", "65536"),
        ("topic-base", "$SYS"), ("topic-base", "a//b"), ("topic-base", "a/+/b"), ("topic-base", "a/#"),
        ("topic-base", ""), ("topic-base", "/cctr"),
        ("instance", ""), ("instance", "a/b"), ("instance", "host.example"), ("instance", String(repeating: "x", count: 33)),
        ("metrics-listen", "udp://127.0.0.1:9888"), ("metrics-listen", "9888"),
        ("spool-sync", "sometimes"), ("spool-sync-interval", "0"), ("spool-max-bytes", "0"),
        ("spool-full", "drop"), ("device-tz", "8"), ("device-tz", "+15:00"), ("device-tz", "+08:60"),
        ("speed-unit", "m/s"), ("max-frame-bytes", "10"), ("idle-timeout", "0"), ("status-interval", "-5"),
        ("publish-raw", "maybe"), ("ha-prefix", "$ha"), ("owntracks-base", "ot/#"),
        ("share-group", "a/b"), ("share-group", "g+"), ("shutdown-timeout", "-1"),
        ("device-password", "12*456"), ("device-password", String(repeating: "1", count: 33)),
        ("command-ttl", "0"), ("command-ttl-max", "86401"), ("udp-reply-window", "0"),
        ("held-frames-max", "0"), ("held-frames-age", "0"), ("max-connections", "0"),
        ("max-connections-per-ip", "-1"), ("frame-rate-limit", "-1"), ("log-format", "xml"), ("log-level", "verbose"),
    ])
    func badValueNamesOptionOriginAndAllowedValues(name: String, value: String) throws {
        let option = try #require(OptionDescriptor.named(name))
        let fromFlag = try #require(error([name: [value]]))
        #expect(fromFlag.option == name)
        #expect(fromFlag.origin == .flag)
        #expect(fromFlag.description.contains("--\(name)"))
        #expect(fromFlag.description.contains(option.allowed))
        let fromEnv = try #require(error(env: [option.environmentVariable: value]))
        #expect(fromEnv.option == name)
        #expect(fromEnv.origin == .environment(variable: option.environmentVariable))
        #expect(fromEnv.description.contains(option.environmentVariable))
    }

    @Test func badValueInFileNamesFileAndKey() throws {
        let files = try BridgeOptionsTestFiles()
        let path = try files.write("bad.yaml", "spool:\n  full: sometimes\n")
        let failure = try #require(error(file: path))
        #expect(failure.option == "spool-full")
        #expect(failure.origin == .file(path: path, key: "spool.full"))
        #expect(failure.description.contains(path) && failure.description.contains("spool.full"))
        #expect(failure.description.contains("drop-oldest or block"))
    }

    @Test func passwordValuesAreNotEchoed() throws {
        let failure = try #require(error(["device-password": ["se^cret"]]))
        #expect(!failure.description.contains("se^cret"))
    }

    @Test func validValuesAtTheEdgesAreAccepted() throws {
        let options = try BridgeOptions.load(
            arguments: [
                "share-group": [""], "instance": [String(repeating: "x", count: 32)], "device-tz": ["-14:00"],
                "mqtt-url": ["mqtts://user@[::1]"], "topic-base": ["a/b/c"], "spool-dir": [""],
                "command-ttl": ["86400"], "mqtt-session-expiry": ["0"],
            ],
            environment: [:], configFile: nil)
        #expect(options.shareGroup == "")
        #expect(options.deviceTZ == -14 * 3600)
        #expect(options.mqttURL == [try MQTTURL("mqtts://user@[::1]:8883")])
        #expect(options.mqttURL.first?.host == "::1" && options.mqttURL.first?.username == "user")
        #expect(options.spoolDir == nil)
    }

    @Test func unknownFlagIsAnError() throws {
        let failure = try #require(error(["mqtt-uri": ["x"]]))
        #expect(failure.option == "mqtt-uri" && failure.origin == .flag)
    }

    @Test func commandTTLAboveItsMaximum() throws {
        let failure = try #require(error(["command-ttl-max": ["100"]], env: ["CCTR_COMMAND_TTL": "200"]))
        #expect(failure.option == "command-ttl")
        #expect(failure.origin == .environment(variable: "CCTR_COMMAND_TTL"))
    }

    @Test func tlsCertificateWithoutKey() throws {
        let failure = try #require(error(["mqtt-cert-file": ["/c.pem"]]))
        #expect(failure.option == "mqtt-cert-file" && failure.origin == .flag)
    }

    @Test func unreadableOrEmptyPasswordFile() throws {
        let files = try BridgeOptionsTestFiles()
        #expect(error(["mqtt-password-file": [files.directory.path + "/missing"]])?.option == "mqtt-password-file")
        let empty = try files.write("empty", "\nsecond\n")
        #expect(error(env: ["CCTR_MQTT_PASSWORD_FILE": empty])?.origin == .environment(variable: "CCTR_MQTT_PASSWORD_FILE"))
    }

    @Test(arguments: [
        ("typo.yaml", "mqtt.sesion.expiry: 5\n", "mqtt.sesion.expiry"),
        ("nested-typo.yaml", "mqtt:\n  url: mqtt://a:1\n  passwd: x\n", "mqtt.passwd"),
        ("password.yaml", "mqtt.password: x\n", "mqtt.password"),
        ("config.yaml", "config: other.yaml\n", "config"),
        ("null-typo.yaml", "spool.dri: null\n", "spool.dri"),
        ("typo.json", #"{"log": {"levle": "debug"}}"#, "log.levle"),
        ("device-setting.yaml", "devices:\n  ABC:\n    timezone: \"+01:00\"\n", "devices.ABC.timezone"),
        ("device-id.yaml", "devices:\n  bridge:\n    name: x\n", "devices.bridge.name"),
        ("device-id-chars.yaml", "devices:\n  \"a+b\":\n    name: x\n", "devices.a+b.name"),
        ("device-depth.yaml", "devices:\n  ABC: x\n", "devices.ABC"),
        ("twice.yaml", "mqtt.url: mqtt://a:1\nmqtt:\n  url: mqtt://b:1\n", "mqtt.url"),
        ("list.yaml", "instance: [a, b]\n", "instance"),
    ])
    func badConfigFileKeys(name: String, text: String, key: String) throws {
        let files = try BridgeOptionsTestFiles()
        let path = try files.write(name, text)
        let failure = try #require(error(file: path))
        #expect(failure.origin == .file(path: path, key: key))
        #expect(failure.description.contains(key))
    }

    @Test func badDeviceSettingValues() throws {
        let files = try BridgeOptionsTestFiles()
        for (setting, value) in [("tz", "8"), ("speed_unit", "kph"), ("password", "a,b")] {
            let path = try files.write("d-\(setting).yaml", "devices:\n  ABC:\n    \(setting): \"\(value)\"\n")
            let failure = try #require(error(file: path))
            #expect(failure.option == "devices.ABC.\(setting)")
            #expect(failure.origin == .file(path: path, key: "devices.ABC.\(setting)"))
        }
    }

    @Test(arguments: [
        ("conf.toml", "instance = 'a'"), ("broken.yaml", "instance: [a\n"), ("broken.json", "{\"instance\": "),
        ("top.yaml", "- a\n- b\n"),
    ])
    func unreadableConfigFiles(name: String, text: String) throws {
        let files = try BridgeOptionsTestFiles()
        let path = try files.write(name, text)
        let failure = try #require(error(file: path))
        #expect(failure.option == nil)
        #expect(failure.origin == .file(path: path, key: nil))
    }

    @Test func missingConfigFile() throws {
        let failure = try #require(error(file: "/nonexistent/cctr.yaml"))
        #expect(failure.origin == .file(path: "/nonexistent/cctr.yaml", key: nil))
    }
}
