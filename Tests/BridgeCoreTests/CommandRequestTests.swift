import BridgeCore
import TrackerCodec
import Testing

@Suite struct CommandRequestTests {
    typealias F = CommandFixtures

    @Test func acceptsTheContractExample() throws {
        let r = try F.request(#"{"id":"c-42","type":"positionPeriodic","params":{"interval_s":30},"ttl_s":120}"#)
        #expect(r.id == "c-42")
        #expect(r.type == .positionPeriodic)
        #expect(r.params == CommandParams(intervalS: 30))
        #expect(r.ttlSeconds == 120)
        #expect(r.plans[.carscop]!.reply == ReplyMatcher(word: "BS08", bodyPrefix: "001E", bodyContains: nil))
        let frame = r.plans[.carscop]!.frame(now: 1_439_827_374_000, timeZoneOffsetSeconds: 0)
        #expect(String(decoding: frame, as: UTF8.self) == "*150817160254AR00001E0000^")
    }

    @Test func assignsAnIDAndTheDefaultTTL() throws {
        let r = try F.request(#"{"type":"positionSingle"}"#)
        #expect(r.id == "b-1")
        #expect(r.ttlSeconds == 300)
    }

    @Test func devicePasswordComesFromTheCommandThenTheDeviceThenTheDefault() throws {
        func frame(_ json: String, device: String = F.device) throws -> String {
            String(decoding: try F.request(json, device: device).plans[.carscop]!.frame(now: 0, timeZoneOffsetSeconds: 0), as: UTF8.self)
        }
        #expect(try frame(#"{"type":"rebootDevice"}"#) == "RESET*123456")
        #expect(try frame(#"{"type":"rebootDevice"}"#, device: "PASSWORDED") == "RESET*654321")
        #expect(try frame(#"{"type":"rebootDevice","params":{"device_password":"s3cret"}}"#, device: "PASSWORDED") == "RESET*s3cret")
    }

    @Test func rendersEveryParameterizedType() throws {
        func frame(_ json: String) throws -> String {
            String(decoding: try F.request(json).plans[.carscop]!.frame(now: 0, timeZoneOffsetSeconds: 0), as: UTF8.self)
        }
        #expect(try frame(#"{"type":"setServer","params":{"host":"gps.example.com","port":8888}}"#) == "IP*123456*gps.example.com,8888")
        #expect(try frame(#"{"type":"sosNumber","params":{"index":2,"phone":"+4915112345678"}}"#) == "ADDPHONE*123456*2*+4915112345678")
        #expect(try frame(#"{"type":"setApn","params":{"apn":"internet"}}"#) == "APN*123456*internet")
        #expect(try frame(#"{"type":"setApn","params":{"apn":"internet","user":"u","password":"p"}}"#)
            == "APN*123456*internet\nUSERNAME*123456*u*p")
        #expect(try frame(#"{"type":"custom","params":{"data":"KEEPONLINE*123456#, ok"}}"#) == "KEEPONLINE*123456#, ok")
    }

    @Test func headerPlaceholderUsesTheDeviceTimeZone() throws {
        let r = try F.request(#"{"type":"setTimezone","params":{"offset":"+08:00"}}"#)
        // 2015-08-17T16:02:54.500Z at +08:00 is 2015-08-18 00:02:54 (the day changes).
        let frame = r.plans[.carscop]!.frame(now: 1_439_827_374_500, timeZoneOffsetSeconds: 8 * 3600)
        #expect(String(decoding: frame, as: UTF8.self) == "TIMEZONE*123456*+08:00*150818000254")
        let utc = r.plans[.carscop]!.frame(now: 1_439_827_374_500, timeZoneOffsetSeconds: 0)
        #expect(String(decoding: utc, as: UTF8.self) == "TIMEZONE*123456*+08:00*150817160254")
    }

    @Test(arguments: [
        // malformed JSON, not an object
        (#"{"type":"custom""#, nil, "malformed JSON"),
        (#"[1,2]"#, nil, "not an object"),
        // bad ids
        (#"{"id":"","type":"positionSingle"}"#, nil, "bad id"),
        (#"{"id":"\#(String(repeating: "x", count: 65))","type":"positionSingle"}"#, nil, "bad id"),
        (#"{"id":"tab\there","type":"positionSingle"}"#, nil, "bad id"),
        (#"{"id":"caf\u00e9","type":"positionSingle"}"#, nil, "bad id"),
        (#"{"id":42,"type":"positionSingle"}"#, nil, "id must be a string"),
        // type
        (#"{"id":"c-1"}"#, "c-1", "type is missing"),
        (#"{"id":"c-1","type":"selfDestruct"}"#, "c-1", "unknown type selfDestruct"),
        (#"{"id":"c-1","type":7}"#, "c-1", "type must be a string"),
        (#"{"id":"c-1","type":"engineResume"}"#, "c-1", "the engineResume template is disabled"),
        (#"{"id":"c-1","type":"alarmArm"}"#, "c-1", "no template for alarmArm"),
        // top-level keys, ttl
        (#"{"id":"c-1","type":"positionSingle","retain":true}"#, "c-1", "unknown key retain"),
        (#"{"id":"c-1","type":"positionSingle","ttl_s":86401}"#, "c-1", "ttl_s 86401 is out of range 1-86400"),
        (#"{"id":"c-1","type":"positionSingle","ttl_s":0}"#, "c-1", "out of range"),
        (#"{"id":"c-1","type":"positionSingle","ttl_s":"60"}"#, "c-1", "ttl_s must be an integer"),
        (#"{"id":"c-1","type":"positionSingle","params":[]}"#, "c-1", "params must be an object"),
        // missing, unknown, bad params
        (#"{"id":"c-1","type":"positionPeriodic"}"#, "c-1", "missing parameter interval_s"),
        (#"{"id":"c-1","type":"positionPeriodic","params":{"interval_s":30,"speed":1}}"#, "c-1", "unknown parameter speed"),
        (#"{"id":"c-1","type":"positionSingle","params":{"interval_s":30}}"#, "c-1", "unknown parameter interval_s"),
        (#"{"id":"c-1","type":"positionPeriodic","params":{"interval_s":9}}"#, "c-1", "interval_s 9 is out of range 10-86400"),
        (#"{"id":"c-1","type":"positionPeriodic","params":{"interval_s":86401}}"#, "c-1", "out of range"),
        (#"{"id":"c-1","type":"positionPeriodic","params":{"interval_s":30.5}}"#, "c-1", "interval_s must be an integer, not a fraction"),
        (#"{"id":"c-1","type":"positionPeriodic","params":{"interval_s":1e30}}"#, "c-1", "interval_s is out of range 10-86400"),
        (#"{"id":"c-1","type":"positionPeriodic","params":{"interval_s":true}}"#, "c-1", "interval_s must be an integer"),
        (#"{"id":"c-1","type":"positionPeriodic","params":{"interval_s":70000}}"#, "c-1", "does not fit {interval_hex}"),
        (#"{"id":"c-1","type":"setTimezone","params":{"offset":"+8"}}"#, "c-1", "offset must be ±HH:MM"),
        (#"{"id":"c-1","type":"setTimezone","params":{"offset":"+14:30"}}"#, "c-1", "offset must be ±HH:MM"),
        (#"{"id":"c-1","type":"sosNumber","params":{"index":4,"phone":"+123"}}"#, "c-1", "index 4 is out of range 1-3"),
        (#"{"id":"c-1","type":"sosNumber","params":{"index":1,"phone":"+12 34"}}"#, "c-1", "phone must be"),
        (#"{"id":"c-1","type":"setServer","params":{"host":"a.example","port":0}}"#, "c-1", "port 0 is out of range 1-65535"),
        (#"{"id":"c-1","type":"setServer","params":{"host":"a.example,9999","port":1}}"#, "c-1", "forbidden character ',' in host"),
        (#"{"id":"c-1","type":"setServer","params":{"host":"-a.example","port":1}}"#, "c-1", "host must start and end"),
        (#"{"id":"c-1","type":"setApn","params":{"apn":"inter*net"}}"#, "c-1", "forbidden character '*' in apn"),
        (#"{"id":"c-1","type":"setApn","params":{"apn":"internet","user":"u#1"}}"#, "c-1", "forbidden character '#' in user"),
        (#"{"id":"c-1","type":"setApn","params":{"apn":"internet","user":"u"}}"#, "c-1", "needs password"),
        (#"{"id":"c-1","type":"setApn","params":{"apn":"a b"}}"#, "c-1", "forbidden character ' ' in apn"),
        (#"{"id":"c-1","type":"rebootDevice","params":{"device_password":"12^4"}}"#, "c-1", "forbidden character '^' in device_password"),
        (#"{"id":"c-1","type":"rebootDevice","params":{"device_password":"\#(String(repeating: "1", count: 33))"}}"#, "c-1", "oversize: device_password has 33 characters"),
        // hostile custom data
        (#"{"id":"c-1","type":"custom","params":{"data":"AB^CD"}}"#, "c-1", "forbidden character '^' in data"),
        (#"{"id":"c-1","type":"custom","params":{"data":"AB\u0007CD"}}"#, "c-1", "forbidden character U+0007 in data"),
        (#"{"id":"c-1","type":"custom","params":{"data":"line\r\nbreak"}}"#, "c-1", "forbidden character U+000D in data"),
        (#"{"id":"c-1","type":"custom","params":{"data":"caf\u00e9"}}"#, "c-1", "forbidden character U+00E9 in data"),
        (#"{"id":"c-1","type":"custom","params":{"data":"\#(String(repeating: "A", count: 513))"}}"#, "c-1", "oversize: data has 513 characters"),
        (#"{"id":"c-1","type":"custom","params":{"data":""}}"#, "c-1", "data is empty"),
        (#"{"id":"c-1","type":"custom"}"#, "c-1", "missing parameter data"),
    ] as [(String, String?, String)])
    func rejectsWithAReasonInWords(_ json: String, _ id: String?, _ reason: String) throws {
        let rejection = try #require(F.rejection(json))
        #expect(rejection.id == id)
        #expect(rejection.reason.contains(reason), "\(rejection.reason)")
    }

    @Test(arguments: [
        (#"{"id":"c-1","type":"custom""#, "unexpected end of input at byte 27"),
        ("{nope", "expected a string key at byte 1"),
        (#"{"a" 1}"#, "expected ':' at byte 5"),
        (#"{"a":1,}"#, "expected a string key at byte 7"),
        (#"{"a":tru}"#, "unexpected '}' at byte 8"),
        (#"{"a":"x\q"}"#, "bad escape at byte 8"),
        (#"{"a":01}"#, "expected '}' at byte 6"),
        (#"{"a":1} x"#, "unexpected content after the value at byte 8"),
        ("", "unexpected end of input at byte 0"),
        (String(repeating: "[", count: 100) + String(repeating: "]", count: 100), "nesting deeper than 64 levels at byte 64"),
    ])
    func malformedJSONSaysWhereItBreaks(_ json: String, _ reason: String) throws {
        let rejection = try #require(F.rejection(json))
        #expect(rejection.id == nil)
        #expect(rejection.type == nil)
        #expect(rejection.reason == "malformed JSON: \(reason)")
    }

    @Test func customDataOfExactly512CharactersIsAccepted() throws {
        let data = String(repeating: "A", count: 512)
        let r = try F.request(#"{"type":"custom","params":{"data":"\#(data)"}}"#)
        #expect(r.plans[.carscop]!.frame(now: 0, timeZoneOffsetSeconds: 0) == Array(data.utf8))
    }

    @Test func oversizeCommandJSONIsRejectedUnread() throws {
        let json = #"{"id":"c-1","type":"custom","params":{"data":"\#(String(repeating: "A", count: 5000))"}}"#
        let rejection = try #require(F.rejection(json))
        #expect(rejection.id == nil)
        #expect(rejection.reason.hasPrefix("oversize: the command is"))
    }

    @Test func rejectionKeepsTheTypeAsGiven() throws {
        let rejection = try #require(F.rejection(#"{"type":"selfDestruct"}"#))
        #expect(rejection.type == "selfDestruct")
        #expect(rejection.id == "b-1")
    }
}
