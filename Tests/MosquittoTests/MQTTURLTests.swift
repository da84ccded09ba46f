import Mosquitto
import Testing

@Suite("MQTTURL")
struct MQTTURLTests {
    @Test(arguments: [
        ("mqtt://127.0.0.1:1883", false, nil, "127.0.0.1", 1883),
        ("mqtt://broker.example", false, nil, "broker.example", 1883),
        ("mqtts://broker.example", true, nil, "broker.example", 8883),
        ("mqtts://bridge@broker.example:9999", true, "bridge", "broker.example", 9999),
        ("mqtt://[::1]:1884", false, nil, "::1", 1884),
        ("mqtt://[::1]", false, nil, "::1", 1883),
        ("mqtt://user@[fe80::1]:2000/", false, "user", "fe80::1", 2000),
    ] as [(String, Bool, String?, String, Int)])
    func parses(text: String, tls: Bool, user: String?, host: String, port: Int) throws {
        let url = try MQTTURL(text)
        #expect(url.usesTLS == tls)
        #expect(url.username == user)
        #expect(url.host == host)
        #expect(url.port == port)
        #expect(try MQTTURL(url.description) == url)
    }

    @Test(arguments: [
        "http://broker:1883", "broker:1883", "mqtt://", "mqtt://host:0", "mqtt://host:65536",
        "mqtt://host:abc", "mqtt://host/path", "mqtt://::1:1883", "mqtt://[::1", "mqtt://@host",
        "mqtt://[::1]x",
    ])
    func rejects(text: String) {
        #expect(throws: MQTTURL.ParseError.self) { try MQTTURL(text) }
    }

    @Test func rejectsPasswordWithoutRepeatingIt() throws {
        let error = #expect(throws: MQTTURL.ParseError.self) { try MQTTURL("mqtt://user:s3cret@host:1883") }
        #expect(error?.description.contains("s3cret") == false)
        #expect(error?.description.contains("password") == true)
    }

    @Test func descriptionHasUserButBracketsIPv6() {
        let url = MQTTURL(usesTLS: true, username: "u", host: "::1", port: nil)
        #expect(url.description == "mqtts://u@[::1]:8883")
    }
}

@Suite("Configuration")
struct ConfigurationTests {
    @Test func neverPrintsThePassword() throws {
        let configuration = MosquittoClient.Configuration(
            url: try MQTTURL("mqtts://bridge@broker:8883"), clientID: "cctr-bridge-main", password: "hunter2")
        #expect(configuration.tls != nil)
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in [String(describing: configuration), String(reflecting: configuration), dumped] {
            #expect(!text.contains("hunter2"))
            #expect(text.contains("bridge"))
        }
    }
}
