import BridgeCore
import BridgeServer
import Foundation
import Logging
import Mosquitto
import Testing
import TestSupport

@Suite struct BridgeOptionsTests {
    private func load(
        _ arguments: [String: [String]] = [:], env: [String: String] = [:], file: String? = nil
    ) throws -> BridgeOptions {
        try BridgeOptions.load(arguments: arguments, environment: env, configFile: file)
    }

    @Test func defaultsAreTheContractTable() throws {
        let o = try load()
        #expect(o == BridgeOptions.defaults)
        #expect(o.listen == [ListenAddress(transport: .both, host: "0.0.0.0", port: 8888)])
        #expect(o.mqttURL == [try MQTTURL("mqtt://127.0.0.1:1883")])
        #expect(o.mqttCAFile == nil && o.mqttCertFile == nil && o.mqttKeyFile == nil)
        #expect(o.mqttSessionExpiry == .seconds(300))
        #expect(o.mqttMaxInflight == 256)
        #expect(o.topicBase == "cctr")
        #expect(o.instance == "main")
        #expect(o.metricsListen == ListenAddress(transport: .tcp, host: "127.0.0.1", port: 9888))
        #expect(o.spoolDir == nil)
        #expect(o.spoolSync == .interval)
        #expect(o.spoolSyncInterval == .milliseconds(100))
        #expect(o.spoolMaxBytes == 1_073_741_824)
        #expect(o.spoolFull == .dropOldest)
        #expect(o.commands == nil)
        #expect(o.deviceTZ == 0)
        #expect(o.speedUnit == .kmh)
        #expect(o.maxFrameBytes == 1024)
        #expect(o.idleTimeout == .seconds(1800))
        #expect(o.statusInterval == .seconds(60))
        #expect(o.publishRaw == false)
        #expect(o.allowlist == nil)
        #expect(o.haDiscovery == false)
        #expect(o.haPrefix == "homeassistant")
        #expect(o.owntracksBase == nil)
        #expect(o.shareGroup == "cctr-bridge")
        #expect(o.shutdownTimeout == .seconds(5))
        #expect(o.mqttPasswordFile == nil)
        #expect(o.devicePassword == "123456")
        #expect(o.commandTTL == .seconds(300))
        #expect(o.commandTTLMax == .seconds(86_400))
        #expect(o.udpReplyWindow == .seconds(60))
        #expect(o.heldFramesMax == 64)
        #expect(o.heldFramesAge == .seconds(600))
        #expect(o.maxConnections == 100_000)
        #expect(o.maxConnectionsPerIP == 0)
        #expect(o.frameRateLimit == 100)
        #expect(o.logFormat == .text)
        #expect(o.logLevel == .info)
        #expect(o.devices.isEmpty)
        #expect(o.mqttPassword == nil)
        #expect(o.mqttURL.first?.port == 1883 && o.mqttURL.first?.usesTLS == false && o.mqttURL.first?.username == nil)
    }

    /// The contract's option names, verbatim, in order, plus this project's additions (argued
    /// in docs/configuration.md and docs/performance.md).
    @Test func tableHoldsTheContractOptionsAndTheAdditions() {
        let additions: Set = ["mqtt-max-inflight", "trace-stages"]
        let contract = """
            listen mqtt-url mqtt-protocol http-token h02-binary-length mqtt-ca-file mqtt-cert-file mqtt-key-file mqtt-session-expiry topic-base
            instance metrics-listen spool-dir spool-sync spool-sync-interval spool-max-bytes spool-full commands
            device-tz speed-unit max-frame-bytes idle-timeout status-interval publish-raw allowlist ha-discovery
            ha-prefix owntracks-base share-group shutdown-timeout mqtt-password-file device-password command-ttl
            command-ttl-max udp-reply-window held-frames-max held-frames-age max-connections max-connections-per-ip
            frame-rate-limit log-format log-level
            """.split(whereSeparator: \.isWhitespace).map(String.init)
        let names = OptionDescriptor.all.map(\.name)
        #expect(names.filter { !additions.contains($0) } == contract)
        #expect(additions.isSubset(of: names))
    }

    @Test func namingOfEnvironmentVariablesAndConfigKeys() throws {
        let option = try #require(OptionDescriptor.named("mqtt-session-expiry"))
        #expect(option.flag == "--mqtt-session-expiry")
        #expect(option.environmentVariable == "CCTR_MQTT_SESSION_EXPIRY")
        #expect(option.configKey == "mqtt.session.expiry")
        #expect(OptionDescriptor.named("max-connections-per-ip")?.environmentVariable == "CCTR_MAX_CONNECTIONS_PER_IP")
        #expect(OptionDescriptor.named("max-connections-per-ip")?.configKey == "max.connections.per.ip")
        #expect(try load(env: ["CCTR_MAX_CONNECTIONS_PER_IP": "7"]).maxConnectionsPerIP == 7)
    }

    @Test func everyOptionIsReadFromItsEnvironmentVariableAndConfigKey() throws {
        let files = try BridgeOptionsTestFiles()
        // A non-default value for every option, as text.
        let values: [String: String] = [
            "listen": "udp://127.0.0.1:7000", "mqtt-url": "mqtts://bridge@broker.example:8884", "h02-binary-length": "45", "mqtt-protocol": "3.1.1",
            "http-token": "T0ken",
            "mqtt-ca-file": "/ca.pem", "mqtt-cert-file": "/c.pem", "mqtt-key-file": "/k.pem",
            "mqtt-session-expiry": "77", "mqtt-max-inflight": "50", "topic-base": "fleet/a", "instance": "east-1",
            "metrics-listen": "[::1]:9000", "spool-dir": "/spool", "spool-sync": "always",
            "spool-sync-interval": "5", "spool-max-bytes": "4096", "spool-full": "block", "commands": "/cmd.json",
            "device-tz": "-03:30", "speed-unit": "knots", "max-frame-bytes": "2048", "idle-timeout": "90",
            "status-interval": "30", "publish-raw": "true", "allowlist": "/allow.txt", "ha-discovery": "true",
            "ha-prefix": "ha", "owntracks-base": "owntracks", "share-group": "", "shutdown-timeout": "9",
            "mqtt-password-file": try files.write("pw", "s3cret\n"), "device-password": "000000",
            "command-ttl": "60", "command-ttl-max": "600", "udp-reply-window": "20", "held-frames-max": "8",
            "held-frames-age": "30", "max-connections": "10", "max-connections-per-ip": "2",
            "frame-rate-limit": "0", "trace-stages": "true", "log-format": "json", "log-level": "debug",
        ]
        #expect(Set(values.keys) == Set(OptionDescriptor.all.map(\.name)))
        var env: [String: String] = [:]
        var json: [String: String] = [:]
        for option in OptionDescriptor.all {
            env[option.environmentVariable] = values[option.name]
            json[option.configKey] = values[option.name]
        }
        let fromEnv = try load(env: env)
        let path = try files.write("all.json", String(decoding: try JSONEncoder().encode(json), as: UTF8.self))
        let fromFile = try load(file: path)
        let fromFlags = try load(values.mapValues { [$0] })
        #expect(fromEnv == fromFile)
        #expect(fromEnv == fromFlags)
        for options in [fromEnv, fromFile, fromFlags] {
            #expect(options.listen == [ListenAddress(transport: .udp, host: "127.0.0.1", port: 7000)])
            #expect(options.mqttURL == [try MQTTURL("mqtts://bridge@broker.example:8884")])
            #expect(options.metricsListen == ListenAddress(transport: .tcp, host: "::1", port: 9000))
            #expect(options.deviceTZ == -(3 * 3600 + 30 * 60))
            #expect(options.mqttConfiguration(clientID: "c").maxInflight == 50)
            #expect(options.spoolFull == .block && options.spoolSync == .always)
            #expect(options.logLevel == .debug && options.logFormat == .json)
            #expect(options.publishRaw && options.haDiscovery && options.traceStages)
            #expect(options.shareGroup == "")
            #expect(options.owntracksBase == "owntracks")
            #expect(options.mqttPassword?.value == "s3cret")
            #expect(options.frameRateLimit == 0 && options.commandTTLMax == .seconds(600))
            #expect(options.h02BinaryLength == .fixed(45))
            #expect(options.mqttConfiguration(clientID: "c").protocolVersion == .v311)
        }
    }

    @Test func precedenceIsFlagThenEnvironmentThenFileThenDefault() throws {
        let files = try BridgeOptionsTestFiles()
        let path = try files.write(
            "p.yaml",
            """
            mqtt.session.expiry: 100
            instance: from-file
            topic.base: file/base
            log.level: warning
            """)
        let env = ["CCTR_MQTT_SESSION_EXPIRY": "200", "CCTR_INSTANCE": "from-env"]
        let options = try load(["mqtt-session-expiry": ["300"]], env: env, file: path)
        #expect(options.mqttSessionExpiry == .seconds(300))  // flag over environment and file
        #expect(options.instance == "from-env")  // environment over file
        #expect(options.topicBase == "file/base")  // file over default
        #expect(options.logLevel == .warning)
        #expect(options.idleTimeout == .seconds(1800))  // default
        #expect(try load(env: env, file: path).mqttSessionExpiry == .seconds(200))
        #expect(try load(file: path).mqttSessionExpiry == .seconds(100))
    }

    @Test func configFileComesFromTheEnvironmentWithoutConfigFlag() throws {
        let files = try BridgeOptionsTestFiles()
        let a = try files.write("a.yaml", "instance: a\n")
        let b = try files.write("b.yaml", "instance: b\n")
        #expect(try load(env: ["CCTR_CONFIG": a]).instance == "a")
        #expect(try load(env: ["CCTR_CONFIG": a], file: b).instance == "b")
    }

    @Test(arguments: [
        ("tcp://0.0.0.0:8888", ListenAddress(transport: .tcp, host: "0.0.0.0", port: 8888)),
        ("udp://10.0.0.1:9999", ListenAddress(transport: .udp, host: "10.0.0.1", port: 9999)),
        ("[::]:8888", ListenAddress(transport: .both, host: "::", port: 8888)),
        ("udp://[::1]:0", ListenAddress(transport: .udp, host: "::1", port: 0)),
        ("0.0.0.0:8888", ListenAddress(transport: .both, host: "0.0.0.0", port: 8888)),
        ("localhost:65535", ListenAddress(transport: .both, host: "localhost", port: 65535)),
    ])
    func listenAddressesParseAndPrintBack(text: String, expected: ListenAddress) {
        #expect(ListenAddress(text) == expected)
        #expect(ListenAddress(text)?.description == text)
    }

    @Test(arguments: ["", "8888", "0.0.0.0", "0.0.0.0:", ":8888", "0.0.0.0:65536", "0.0.0.0:-1", "::1:8888",
                      "[::]8888", "[]:1", "http://0.0.0.0:1", "tcp://", "0.0.0.0:88a", "a b:1"])
    func badListenAddressesAreRefused(text: String) {
        #expect(ListenAddress(text) == nil)
    }

    @Test func listenRepeatsAsFlagAndTakesCommaListOrListElsewhere() throws {
        let files = try BridgeOptionsTestFiles()
        let expected = [
            ListenAddress(transport: .tcp, host: "0.0.0.0", port: 8888),
            ListenAddress(transport: .udp, host: "::", port: 8889),
        ]
        #expect(try load(["listen": ["tcp://0.0.0.0:8888", "udp://[::]:8889"]]).listen == expected)
        #expect(try load(env: ["CCTR_LISTEN": "tcp://0.0.0.0:8888, udp://[::]:8889"]).listen == expected)
        let yaml = try files.write("l.yaml", "listen:\n  - tcp://0.0.0.0:8888\n  - \"udp://[::]:8889\"\n")
        #expect(try load(file: yaml).listen == expected)
        let json = try files.write("l.json", #"{"listen": "tcp://0.0.0.0:8888,udp://[::]:8889"}"#)
        #expect(try load(file: json).listen == expected)
    }

    @Test func passwordFromEnvironmentOrFileAndTheirPrecedence() throws {
        let files = try BridgeOptionsTestFiles()
        let path = try files.write("password", "from-file\r\nsecond line\n")
        #expect(try load(env: ["CCTR_MQTT_PASSWORD": "from-env"]).mqttPassword == Secret("from-env"))
        #expect(try load(["mqtt-password-file": [path]]).mqttPassword == Secret("from-file"))
        // A file given as a flag beats the environment; the environment beats a file named
        // in the environment or the config file.
        #expect(try load(["mqtt-password-file": [path]], env: ["CCTR_MQTT_PASSWORD": "e"]).mqttPassword?.value == "from-file")
        #expect(
            try load(env: ["CCTR_MQTT_PASSWORD_FILE": path, "CCTR_MQTT_PASSWORD": "e"]).mqttPassword?.value == "e")
        let config = try files.write("c.yaml", "mqtt.password.file: \(path)\n")
        #expect(try load(file: config).mqttPassword?.value == "from-file")
    }

    @Test func passwordNeverAppearsInDescriptionsOrPrintedConfig() throws {
        let files = try BridgeOptionsTestFiles()
        let path = try files.write("password", "hunter2-secret\n")
        let options = try load(["mqtt-password-file": [path]])
        #expect(options.mqttPassword?.value == "hunter2-secret")
        var dumped = ""
        dump(options, to: &dumped)
        for text in [options.configFileJSON(), String(describing: options), String(reflecting: options), dumped] {
            #expect(!text.contains("hunter2"))
        }
        #expect(options.configFileJSON().contains(path))
    }

    @Test func printedConfigLoadsBackToTheSameOptions() throws {
        let files = try BridgeOptionsTestFiles()
        let source = try files.write(
            "s.yaml",
            """
            listen: ["tcp://[::]:1", "2.2.2.2:3"]
            device.tz: "+05:45"
            owntracks.base: ot
            devices:
              ABC-1: {tz: "-01:00", speed_unit: mph, password: "777777", name: "Truck 1"}
            """)
        let options = try load(["publish-raw": ["true"]], file: source)
        let printed = try files.write("printed.json", options.configFileJSON())
        #expect(try load(file: printed) == options)
        #expect(try load(file: try files.write("d.json", BridgeOptions.defaults.configFileJSON())) == .defaults)
    }

    /// Numbers and on/off options are JSON numbers and booleans in `--print-config`, times in
    /// the units of their flags.
    @Test func printedConfigKeepsValuesTyped() {
        let printed = BridgeOptions.defaults.configFileJSON()
        for line in [#""mqtt.max.inflight" : 256,"#, #""publish.raw" : false,"#, #""spool.sync.interval" : 100,"#,
                     #""idle.timeout" : 1800,"#, #""spool.full" : "drop-oldest","#, #""allowlist" : null,"#] {
            #expect(printed.contains(line), "\(line)")
        }
    }

    @Test func unknownEnvironmentVariablesAreListed() {
        let env = ["CCTR_INSTANCE": "a", "CCTR_MQTT_PASSWORD": "p", "CCTR_CONFIG": "c", "CCTR_INSTANSE": "b",
                   "CCTR_LISTEN": "x", "HOME": "/root", "CCTR_MQTT_URI": "y"]
        #expect(BridgeOptions.unknownEnvironmentVariables(in: env) == ["CCTR_INSTANSE", "CCTR_MQTT_URI"])
    }

    @Test func exampleConfigLoadsAndEqualsTheDefaultsExceptDevices() throws {
        let path = PublicFrame.packageRoot.appendingPathComponent("deploy/config.example.yaml").path
        var options = try load(file: path)
        #expect(options.devices == [
            "CC8011400042499": DeviceOverride(tz: 8 * 3600, speedUnit: .knots, password: "654321", name: "Van 42"),
            "ORANGE000731512": DeviceOverride(name: "Trailer 7"),
        ])
        options.devices = [:]
        #expect(options == BridgeOptions.defaults)
    }

    @Test func docsConfigurationMarkdownIsTheGeneratedReference() throws {
        let url = PublicFrame.packageRoot.appendingPathComponent("docs/configuration.md")
        let committed = try String(contentsOf: url, encoding: .utf8)
        #expect(
            committed == ConfigurationReference.markdown(),
            "docs/configuration.md is stale: run `swift run cctr-bridge config-reference > docs/configuration.md`")
        for option in OptionDescriptor.all {
            #expect(committed.contains("`\(option.environmentVariable)`"))
            #expect(committed.contains("`\(option.configKey)`"))
        }
    }

    @Test func helpTextShowsDefaultAndEnvironmentVariable() throws {
        let option = try #require(OptionDescriptor.named("spool-full"))
        #expect(option.flagHelp.contains("Default: drop-oldest."))
        #expect(option.flagHelp.contains("CCTR_SPOOL_FULL"))
        #expect(OptionDescriptor.named("spool-dir")?.flagHelp.contains("Default: none.") == true)
    }
}
