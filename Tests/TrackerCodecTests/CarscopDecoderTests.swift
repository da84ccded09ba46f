import TrackerCodec
import Testing

@Suite struct CarscopDecoderTests {
    static let gps = "061825A2934.0133N10627.2544E000.0040331309.6200000000L000000"

    func decode(_ text: String) throws(FrameRejection) -> CarscopFrame {
        try CarscopDecoder.decode(Array(text.utf8))
    }

    func rejection(_ text: String) -> FrameRejection? {
        do {
            _ = try decode(text)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        ("000.0", 0.0), ("15.50", 15.5), ("0.000", 0.0), ("123.4", 123.4), ("1.234", 1.234), ("99.99", 99.99),
    ])
    func speedInEveryWidth(_ speed: String, _ expected: Double) throws {
        let frame = try decode("*161101144927UD00144927A1203.5394S07657.7255W\(speed)161101255.0011111111L022043^")
        #expect(frame.gps?.speed == expected)
    }

    @Test(arguments: ["00000", "0..00", "1234.", ".1234", "12a.4", "     "])
    func malformedSpeedIsABadGPSBlock(_ speed: String) {
        let r = rejection("*161101144927UD00144927A1203.5394S07657.7255W\(speed)161101255.0011111111L022043^")
        #expect(r?.reason == .badGPSBlock)
    }

    @Test(arguments: [("L0", Int64(0)), ("L7", 7), ("L022043", 22043), ("L1234567890", 1_234_567_890)])
    func odometerOfOneToTenDigits(_ tail: String, _ expected: Int64) throws {
        let frame = try decode("*161101144927UD00144927A1203.5394S07657.7255W000.4161101255.0011111111\(tail)^")
        #expect(frame.gps?.odometer == expected)
        #expect(frame.gps?.statusBits == "11111111")
    }

    @Test func elevenDigitOdometerIsRejected() {
        let r = rejection("*161101144927UD00144927A1203.5394S07657.7255W000.4161101255.0011111111L12345678901^")
        #expect(r?.reason == .badGPSBlock)
    }

    @Test func blockWithoutTailHasNoStatusOrOdometer() throws {
        let frame = try decode("*170821223121UD00061825V0000.0000N00000.0000E000.0040331309.62^")
        #expect(frame.gps?.statusBits == nil)
        #expect(frame.gps?.odometer == nil)
        #expect(frame.gps?.hasFillerCoordinates == true)
        #expect(frame.gps?.valid == false)
    }

    @Test func bothHemispheresGiveSignedDegrees() throws {
        let ne = try decode("*040331141830UD00061825A2934.0133N10627.2544E000.0040331309.62^").gps
        let sw = try decode("*040331141830UD00061825A2934.0133S10627.2544W000.0040331309.62^").gps
        #expect(ne?.latitude == 29.566888 && ne?.longitude == 106.45424)
        #expect(sw?.latitude == -29.566888 && sw?.longitude == -106.45424)
    }

    @Test(arguments: [
        ("9000.0000N18000.0000E", true), ("9000.0001N00000.0000E", false), ("0000.0000N18000.0001E", false),
        ("8960.0000N00000.0000E", false), ("0000.0000N17960.0000E", false), ("9100.0000S00000.0000E", false),
    ])
    func coordinateRanges(_ coordinates: String, _ accepted: Bool) {
        let r = rejection("*040331141830UD00061825A\(coordinates)000.0040331309.62^")
        if accepted {
            #expect(r == nil)
        } else {
            #expect(r?.reason == .coordinateOutOfRange)
        }
    }

    @Test(arguments: [
        "061825X2934.0133N10627.2544E000.0040331309.62",  // validity
        "06182AA2934.0133N10627.2544E000.0040331309.62",  // time digits
        "061825A2934,0133N10627.2544E000.0040331309.62",  // latitude point
        "061825A2934.0133Q10627.2544E000.0040331309.62",  // hemisphere
        "061825A2934.0133N10627.2544X000.0040331309.62",  // hemisphere
        "061825A2934.0133N10627.2544E000.00403313096.2",  // course point
        "061825A2934.0133N10627.2544E000.0040331309.6",  // too short
        "061825A2934.0133N10627.2544E000.0040331360.01",  // course over 360
        "",
    ])
    func malformedBlocks(_ block: String) {
        #expect(rejection("*040331141830UD00\(block)^")?.reason == .badGPSBlock)
    }

    @Test func impossibleGPSDateStillDecodes() throws {
        let frame = try decode("*040331141830UD00256199A2934.0133N10627.2544E000.0041399309.62^")
        #expect(frame.gps?.dateTime.isRealInstant == false)
    }

    @Test func badHeaders() {
        #expect(rejection("*04033114183AUB00HSO^")?.reason == .badHeader)
        #expect(rejection("*040331141830U!00HSO^")?.reason == .badHeader)
        #expect(rejection("*0403311418^")?.reason == .badHeader)
        #expect(rejection("*abc^")?.reason == .badHeader)
    }

    @Test func rejectionCarriesTheWholeFrame() {
        let text = "*040331141830UD00061825A9934.0133N10627.2544E000.0040331309.62^"
        #expect(rejection(text)?.raw == Array(text.utf8))
    }

    @Test(arguments: ["", "bad/id", "a+b", "a#b", "bridge", "has space", String(repeating: "A", count: 65)])
    func invalidTerminalIDs(_ id: String) {
        #expect(rejection("*040331141830UB05\(id)\(Self.gps)^")?.reason == .badDeviceID)
    }

    @Test(arguments: ["123456789012345", "ORANGE000731512", "a", "dev_1-x", String(repeating: "Z", count: 64), "Bridge"])
    func validTerminalIDsKeepCase(_ id: String) throws {
        guard case .login(let decoded, _) = try decode("*040331141830UB05\(id)\(Self.gps)^").content else {
            Issue.record("not a login")
            return
        }
        #expect(decoded == id)
    }

    @Test(arguments: [
        ("2Hi-jack", "2", "Hi-jack"), ("0", "0", ""), ("5Over speed 120", "5", "Over speed 120"),
        ("X-label", "", "X-label"), ("", "", ""), ("77", "7", "7"),
    ])
    func alarmCodeAndLabel(_ prefix: String, _ code: String, _ label: String) throws {
        guard case .alarm(let c, let l, _) = try decode("*040331141830UA01\(prefix)\(Self.gps)^").content else {
            Issue.record("not an alarm")
            return
        }
        #expect(c == code)
        #expect(l == label)
    }

    @Test func unknownWordsAreKeptWithTheirBody() throws {
        let frame = try decode("*040331141830ZZ99some text, with *stars*^")
        #expect(frame.word == "ZZ99")
        #expect(frame.content == .unknown(body: "some text, with *stars*"))
    }

    @Test func positionAnswerKeepsItsNineCharacterField() throws {
        let frame = try decode("*040331141830UB04999999984\(Self.gps)^")
        #expect(frame.content == .position(gps: frame.gps!, field: "999999984"))
    }

    @Test func textBeforeALivePositionBlockIsRejected() {
        #expect(rejection("*040331141830UD00xx\(Self.gps)^")?.reason == .badGPSBlock)
    }

    @Test func civilTimeRoundTripsAndKnowsLeapYears() {
        #expect(CivilDateTime(year: 2024, month: 2, day: 29, hour: 0, minute: 0, second: 0).isRealInstant)
        #expect(!CivilDateTime(year: 2023, month: 2, day: 29, hour: 0, minute: 0, second: 0).isRealInstant)
        #expect(!CivilDateTime(year: 2023, month: 13, day: 1, hour: 0, minute: 0, second: 0).isRealInstant)
        #expect(!CivilDateTime(year: 2023, month: 1, day: 1, hour: 24, minute: 0, second: 0).isRealInstant)
        let t = CivilDateTime(year: 2015, month: 8, day: 17, hour: 16, minute: 2, second: 54)
        #expect(t.secondsSinceEpoch == 1_439_827_374)
        #expect(CivilDateTime(secondsSinceEpoch: t.secondsSinceEpoch) == t)
        for seconds in stride(from: Int64(-86_400 * 400), to: 86_400 * 40_000, by: 86_400 * 7 + 3_601) {
            #expect(CivilDateTime(secondsSinceEpoch: seconds).secondsSinceEpoch == seconds)
        }
    }
}
