import BridgeCore
import TrackerCodec
import Foundation
import TestSupport
import Testing

@Suite struct JSONWriterTests {
    @Test(arguments: [
        (0.0, 6, "0.0"), (-21.114665, 6, "-21.114665"), (158.35, 2, "158.35"), (255.0, 2, "255.0"),
        (0.0000004, 6, "0.0"), (-0.0000004, 6, "0.0"), (1.0000005, 6, "1.000001"), (28.7060001, 3, "28.706"),
        (180.0, 6, "180.0"), (-0.5, 1, "-0.5"), (99999.999, 3, "99999.999"),
    ])
    func numbersAreFixedPointWithoutExponent(_ value: Double, _ decimals: Int, _ expected: String) {
        var w = JSONWriter()
        w.number(value, decimals: decimals)
        #expect(String(decoding: w.bytes, as: UTF8.self) == expected)
    }

    /// A value whose scaled form does not fit 64 bits would trap in the conversion: null instead.
    @Test func numbersTooLargeForTheirDecimalsAreNull() {
        var w = JSONWriter()
        w.beginArray()
        w.number(1e300, decimals: 6)
        w.number(-9.3e11, decimals: 7)
        w.number(.infinity, decimals: 1)
        w.number(9.2e11, decimals: 7)
        w.endArray()
        #expect(String(decoding: w.bytes, as: UTF8.self) == "[null,null,null,920000000000.0]")
    }

    @Test func integersAtTheLimits() {
        var w = JSONWriter()
        w.beginArray()
        for value: Int64 in [.min, -1, 0, 9, 10, 1_000_000, .max] {
            w.integer(value)
        }
        w.endArray()
        #expect(String(decoding: w.bytes, as: UTF8.self)
            == "[-9223372036854775808,-1,0,9,10,1000000,9223372036854775807]")
    }

    @Test func stringsAreEscapedAndRoundTrip() throws {
        let nasty = "quote\" backslash\\ newline\n tab\t nul\u{0} bell\u{7} del\u{7F} é 漢字 😀"
        var w = JSONWriter()
        w.beginObject()
        w.key("s")
        w.string(nasty)
        w.key("n")
        w.null()
        w.key("a")
        w.beginArray()
        w.integer(-42)
        w.bool(true)
        w.endArray()
        w.endObject()
        let decoded = try JSONValue.parse(w.bytes)
        #expect(decoded["s"]?.string == nasty)
        #expect(decoded["n"]?.isNull == true)
        #expect(decoded["a"] == .array([.number(-42), .bool(true)]))
    }

    @Test func latin1StringsPreserveEveryByte() throws {
        let bytes = (0...255).map { UInt8($0) }
        var w = JSONWriter()
        w.latin1String(bytes)
        let decoded = try JSONDecoder().decode(String.self, from: Data(w.bytes))
        #expect(decoded.unicodeScalars.map { UInt8($0.value) } == bytes)
    }

    @Test func containersInsideArraysAreSeparated() {
        var w = JSONWriter()
        w.beginArray()
        for name in ["a", "b"] {
            w.beginObject()
            w.key("t")
            w.string(name)
            w.endObject()
        }
        w.beginArray()
        w.endArray()
        w.endArray()
        #expect(String(decoding: w.bytes, as: UTF8.self) == #"[{"t":"a"},{"t":"b"},[]]"#)
    }

    @Test func timestamps() {
        var w = JSONWriter()
        w.beginArray()
        w.timestamp(seconds: 0)
        w.timestamp(milliseconds: 1_439_827_374_007)
        w.timestamp(milliseconds: -1)
        w.endArray()
        #expect(String(decoding: w.bytes, as: UTF8.self)
            == #"["1970-01-01T00:00:00Z","2015-08-17T16:02:54.007Z","1969-12-31T23:59:59.999Z"]"#)
        #expect(ISOTimestamp.parseMilliseconds("2015-08-17T16:02:54.007Z") == 1_439_827_374_007)
        #expect(ISOTimestamp.parseMilliseconds("2015-08-17T16:02:54Z") == 1_439_827_374_000)
        #expect(ISOTimestamp.parseMilliseconds("2015-02-30T16:02:54Z") == nil)
    }

    @Test func topicRulesRefuseWildcardsAndEmptyLevels() {
        for bad in ["", "$SYS", "a//b", "a/+/b", "a/#", "/a", "a/", "a\u{0}b"] {
            #expect(!TopicLayout.isValidTopicPrefix(bad), "\(bad)")
        }
        for good in ["cctr", "fleet/eu/cctr", "a b"] {
            #expect(TopicLayout.isValidTopicPrefix(good))
        }
        #expect(throws: TopicLayout.ValidationError.self) { try TopicLayout(base: "cctr", instance: "bad/instance") }
        #expect(throws: TopicLayout.ValidationError.self) { try TopicLayout(base: "cctr", instance: String(repeating: "a", count: 33)) }
    }

    @Test func offsetsParseAndFormat() {
        #expect(DeviceSettings.parseOffset("+08:00") == 28_800)
        #expect(DeviceSettings.parseOffset("-03:30") == -12_600)
        #expect(DeviceSettings.parseOffset("+0530") == 19_800)
        #expect(DeviceSettings.parseOffset("+00") == 0)
        #expect(DeviceSettings.parseOffset("08:00") == nil)
        #expect(DeviceSettings.parseOffset("+8:00") == nil)
        #expect(DeviceSettings.parseOffset("+15:00") == nil)
        #expect(DeviceSettings.formatOffset(-12_600) == "-03:30")
    }
}
