import BridgeServer
import Foundation
import Mosquitto
import Testing

/// `--mqtt-url` as a list of cluster nodes: the flag repeats, the environment and the config
/// file take a comma-separated list or a list, and every node shares one scheme and one user.
@Suite struct BrokerURLListTests {
    private static let nodes = ["mqtt://bridge@node1:1883", "mqtt://bridge@node2:1884", "mqtt://bridge@[::1]:1885"]

    private func load(
        _ arguments: [String: [String]] = [:], env: [String: String] = [:], file: String? = nil
    ) throws -> BridgeOptions {
        try BridgeOptions.load(arguments: arguments, environment: env, configFile: file)
    }

    @Test func flagEnvironmentAndConfigFileGiveTheSameNodesInOrder() throws {
        let expected = try Self.nodes.map { try MQTTURL($0) }
        let command = try CommandLineOptions.parse(Self.nodes.flatMap { ["--mqtt-url", $0] })
        let fromFlags = try load(command.arguments)
        let fromEnv = try load(env: ["CCTR_MQTT_URL": Self.nodes.joined(separator: ", ")])
        let files = try BridgeOptionsTestFiles()
        let yamlList = try load(file: files.write("list.yaml", "mqtt:\n  url:\n" + Self.nodes.map { "    - \"\($0)\"\n" }.joined()))
        let yamlText = try load(file: files.write("text.yaml", "mqtt.url: \"\(Self.nodes.joined(separator: ","))\"\n"))
        let json = try load(file: files.write("list.json", #"{"mqtt": {"url": ["# + Self.nodes.map { "\"\($0)\"" }.joined(separator: ",") + "]}}"))
        for options in [fromFlags, fromEnv, yamlList, yamlText, json] {
            #expect(options.mqttURL == expected)
        }
        let configuration = fromFlags.mqttConfiguration(clientID: "c")
        #expect(configuration.brokers == [
            BrokerAddress(host: "node1", port: 1883), BrokerAddress(host: "node2", port: 1884), BrokerAddress(host: "::1", port: 1885),
        ])
        #expect(configuration.username == "bridge")
        #expect(configuration.url(of: configuration.brokers[2]).description == "mqtt://[::1]:1885")
    }

    @Test func theFlagWinsOverTheEnvironmentAsAWholeList() throws {
        let options = try load(["mqtt-url": ["mqtt://a:1883"]], env: ["CCTR_MQTT_URL": "mqtt://b:1883,mqtt://c:1883"])
        #expect(options.mqttURL == [try MQTTURL("mqtt://a:1883")])
    }

    @Test func printConfigShowsTheList() throws {
        let options = try load(["mqtt-url": ["mqtt://a:1883", "mqtt://b"]])
        let printed = options.configFileJSON()
        #expect(printed.contains("mqtt://a:1883") && printed.contains("mqtt://b:1883"), "\(printed)")
        let files = try BridgeOptionsTestFiles()
        let reloaded = try load(file: files.write("printed.json", printed))
        #expect(reloaded.mqttURL == options.mqttURL)
    }

    @Test(arguments: [
        (["mqtt://a:1883", "mqtts://b:8883"], "same scheme"),
        (["mqtt://alice@a:1883", "mqtt://bob@b:1883"], "same scheme and user"),
        (["mqtt://alice@a:1883", "mqtt://b:1883"], "same scheme and user"),
    ])
    func nodesThatNeedAnotherLoginOrTLSAreRefused(urls: [String], reason: String) throws {
        #expect {
            _ = try load(["mqtt-url": urls])
        } throws: { error in
            "\(error)".contains("mqtt-url") && "\(error)".contains(reason)
        }
    }

    @Test func aPasswordInAnyNodeIsRefusedWithoutEchoingIt() throws {
        #expect {
            _ = try load(env: ["CCTR_MQTT_URL": "mqtt://a:1883,mqtt://fleet:hunter2@b:1883"])
        } throws: { error in
            "\(error)".contains("must not contain a password") && !"\(error)".contains("hunter2") && "\(error)".contains("CCTR_MQTT_URL")
        }
    }
}
