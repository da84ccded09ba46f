import BridgeCore
import TrackerCodec
import Foundation
import TestSupport
import Testing

@Suite struct CommandResultTests {
    typealias F = CommandFixtures
    static let topics = try! TopicLayout(base: "cctr", instance: "main")

    @Test func payloadHasEveryKeyInOrder() {
        let r = CommandResult(
            id: "c-42", deviceID: F.device, type: "positionPeriodic", status: .acked, isFinal: true,
            frame: "*040331141830AR00001E0000^", deviceReply: "*040331141830BS08001E0000^", at: 1_795_550_103_120, instance: "main")
        let expected = #"{"v":1,"id":"c-42","device_id":"CC8011400042499","type":"positionPeriodic","status":"acked","final":true,"reason":null,"frame":"*040331141830AR00001E0000^","device_reply":"*040331141830BS08001E0000^","at":"2026-11-24T19:55:03.120Z","instance":"main"}"#
        #expect(String(decoding: r.json(), as: UTF8.self) == expected)
        let message = r.message(topics: Self.topics)
        #expect(message.topic == "cctr/CC8011400042499/cmd/result")
        #expect(message.qos == 1 && !message.retain && message.kind == .commandResult)
    }

    @Test func malformedJSONGivesANullIDAndType() {
        guard case .rejected(let rejection) = F.parse("{nope") else {
            Issue.record("accepted malformed JSON")
            return
        }
        let r = CommandResult(rejection, deviceID: F.device, at: F.t0, instance: "main")
        let json = String(decoding: r.json(), as: UTF8.self)
        #expect(json.hasPrefix(#"{"v":1,"id":null,"device_id":"CC8011400042499","type":null,"status":"rejected","final":true,"reason":"malformed JSON: "#))
    }

    @Test(arguments: [
        ("$SYS/broker", "starts with $"),
        ("cctr/bridge/main/state", "under cctr/bridge/"),
        ("homeassistant/device/cctr_x/config", "under homeassistant/"),
        ("homeassistant", "under homeassistant/"),
        ("replies/+/x", "wildcard"),
        ("replies//x", "empty level"),
    ])
    func refusedResponseTopics(_ topic: String, _ why: String) throws {
        let reason = try #require(CommandResult.responseTopicRefusal(topic, topics: Self.topics, haPrefix: "homeassistant"))
        #expect(reason.hasPrefix("response topic \(topic) refused: "))
        #expect(reason.contains(why))
    }

    @Test func acceptedResponseTopics() {
        for topic in ["replies/controller-1", "cctr/CC8011400042499/replies", "cctrx/bridge/x"] {
            #expect(CommandResult.responseTopicRefusal(topic, topics: Self.topics, haPrefix: "homeassistant") == nil, "\(topic)")
        }
    }

    /// Every kind of result the command code produces, validated by `scripts/validate_payloads.py`.
    @Test func resultsValidateAgainstTheSchema() throws {
        var lines: [String] = []
        func add(_ r: CommandResult) {
            lines.append(#"{"topic":"cctr/\#(r.deviceID)/cmd/result","payload":\#(String(decoding: r.json(), as: UTF8.self)),"qos":1,"retain":false}"#)
        }
        func drive(_ actions: [CommandQueue.Action]) {
            for case .publishResult(let r) in actions { add(r) }
        }
        for json in ["{nope", "[1]", #"{"id":"","type":"x"}"#, #"{"type":"selfDestruct"}"#, #"{"id":"c-9","type":"engineResume"}"#,
                     #"{"id":"c-9","type":"custom","params":{"data":"a^b"}}"#, #"{"id":7}"#] {
            guard case .rejected(let rejection) = F.parse(json) else {
                Issue.record("accepted \(json)")
                continue
            }
            add(CommandResult(rejection, deviceID: F.device, at: F.t0, instance: "main"))
        }
        var q = CommandQueue(deviceID: F.device, instance: "main", timeZoneOffsetSeconds: 8 * 3600)
        var noted = try F.request(#"{"id":"n-1","type":"rebootDevice","ttl_s":10}"#)
        noted.note = CommandResult.responseTopicRefusal("$SYS/x", topics: Self.topics, haPrefix: "homeassistant")
        drive(q.submit(noted, now: F.t0, deviceReachable: false))
        drive(q.submit(try F.request(#"{"id":"c-1","type":"positionPeriodic","params":{"interval_s":30}}"#), now: F.t0, deviceReachable: false))
        drive(q.deviceUplink(now: F.t0 + 1))
        drive(q.writeResult(commandID: "n-1", .written, now: F.t0 + 2))
        drive(q.writeResult(commandID: "c-1", .written, now: F.t0 + 3))
        drive(q.deviceFrame(word: "BS08", body: "001E0000", raw: "*261125035502BS08001E0000^", now: F.t0 + 4))
        drive(q.submit(try F.request(#"{"id":"c-2","type":"positionSingle","ttl_s":1}"#), now: F.t0 + 5, deviceReachable: true))
        drive(q.writeResult(commandID: "c-2", .failed(reason: "broken pipe"), now: F.t0 + 6))
        drive(q.submit(try F.request(#"{"id":"c-3","type":"positionSingle","ttl_s":1}"#), now: F.t0 + 7, deviceReachable: true))
        drive(q.writeResult(commandID: "c-3", .written, now: F.t0 + 8))
        drive(q.submit(try F.request(#"{"id":"c-4","type":"setApn","params":{"apn":"a","user":"u","password":"p"},"ttl_s":1}"#), now: F.t0 + 9, deviceReachable: false))
        drive(q.deviceGone(now: F.t0 + 10))
        drive(q.tick(now: F.t0 + 20_000))
        drive(q.submit(try F.request(#"{"id":"c-5","type":"custom","params":{"data":"\"quoted\" \\ back"}}"#), now: F.t0 + 30_000, deviceReachable: true))
        drive(q.writeResult(commandID: "c-5", .written, now: F.t0 + 30_001))
        let statuses = Set(lines.compactMap { line in CommandResult.Status.allCases.first { line.contains(#""status":"\#($0.rawValue)""#) } })
        #expect(statuses == Set(CommandResult.Status.allCases))

        let edge = try TopicLayout(base: "cctr", instance: "edge")
        for (json, handOverTTL) in [(#"{"id":"c-1","type":"positionPeriodic","params":{"interval_s":30},"ttl_s":120}"#, nil),
                                    (#"{"type":"setApn","params":{"apn":"a","user":"u","password":"p","device_password":"9"}}"#, 7)] {
            let forward = CommandRouting.forwardMessage(
                try F.request(json), topic: "cctr/\(F.device)/cmd", handOverTTL: handOverTTL, to: "main", topics: edge, deviceID: F.device)
            lines.append(#"{"topic":"\#(forward.topic)","payload":\#(String(decoding: forward.payload, as: UTF8.self)),"qos":1,"retain":false}"#)
        }

        let result = try PayloadScripts.validate(lines: lines)
        #expect(PayloadScripts.allPassed(result, lines: lines.count), "\(result.output)")
    }
}
