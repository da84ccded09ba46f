/// Decodes H02 binary frames: `$`, the id (5 BCD bytes, or 8 bytes whose first 15 hex
/// digits are the IMEI in the 42-byte form), `hhmmss` `ddmmyy`, latitude `DDMMmmmm`, a
/// battery byte, longitude `DDDMMmmmm` + a flags nibble (bit 1 valid, bit 2 north, bit 3
/// east), speed (knots) and course as 3 BCD digits each, and the 4-byte status word.
enum H02BinaryDecoder {
    static func decode(_ frame: [UInt8]) throws(FrameRejection) -> DeviceMessage {
        guard H02BinaryLength.lengths.contains(frame.count), frame.first == Ascii.dollar else {
            throw H02TextDecoder.reject(.badHeader, "a binary frame is 32, 42 or 45 bytes starting with $, not \(frame.count)")
        }
        let idLength = frame.count == 42 ? 8 : 5
        let idHex = hex(frame[1..<(1 + idLength)])
        let id = frame.count == 42 ? String(idHex.prefix(15)) : idHex
        guard id.utf8.allSatisfy(Ascii.isDigit) else {
            throw H02TextDecoder.reject(.badDeviceID, "the binary id is not BCD digits")
        }
        var p = 1 + idLength
        let digits = try bcd(frame[p..<(p + 10)])
        p += 11  // time, date, latitude; then one battery byte
        let lonNibbles = try bcd(frame[p..<(p + 4)]) + [Int(frame[p + 4] >> 4)]
        guard lonNibbles[8] < 10 else { throw H02TextDecoder.reject(.badGPSBlock, "longitude is not BCD") }
        let flags = frame[p + 4] & 0x0F
        let motion = try bcd(frame[(p + 5)..<(p + 8)])
        let statusBytes = frame[(p + 8)..<(p + 12)]
        let status = statusBytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }

        func number(_ d: ArraySlice<Int>) -> Int { d.reduce(0) { $0 * 10 + $1 } }
        let time = (number(digits[0..<2]), number(digits[2..<4]), number(digits[4..<6]))
        let date = (number(digits[6..<8]), number(digits[8..<10]), number(digits[10..<12]))
        let latDegrees = number(digits[12..<14])
        let latMinutes = Double(number(digits[14..<20])) / 10_000
        let lonDegrees = number(lonNibbles[0..<3])
        let lonMinutes = Double(number(lonNibbles[3..<9])) / 10_000
        guard latMinutes < 60, lonMinutes < 60 else {
            throw H02TextDecoder.reject(.coordinateOutOfRange, "minutes of 60 or more")
        }
        let latitude = Double(latDegrees) + latMinutes / 60
        let longitude = Double(lonDegrees) + lonMinutes / 60
        guard latitude <= 90, longitude <= 180 else {
            throw H02TextDecoder.reject(.coordinateOutOfRange, "latitude over 90 or longitude over 180 degrees")
        }
        let dateTime = CivilDateTime(year: 2000 + date.2, month: date.1, day: date.0, hour: time.0, minute: time.1, second: time.2)
        var message = DeviceMessage(
            protocolName: .h02, raw: frame, messageType: "binary", bodyRange: (1 + idLength)..<frame.count,
            deviceID: id, deviceClock: dateTime.isRealInstant ? DeviceClock(time: dateTime, isUTC: true) : nil,
            content: .event(.noPosition)
        )
        if latitude != 0 || longitude != 0 {
            let fix = Fix(
                dateTime: dateTime, valid: flags & 0x2 != 0,
                latitude: roundTo6(flags & 0x4 != 0 ? latitude : -latitude),
                longitude: roundTo6(flags & 0x8 != 0 ? longitude : -longitude),
                speed: .knots(Double(number(motion[0..<3]))), course: Double(number(motion[3..<6])),
                statusBits: H02Status.hex(status)
            )
            guard fix.course <= 360 else { throw H02TextDecoder.reject(.badGPSBlock, "course over 360 degrees") }
            message.content = .position
            message.fix = fix
            if let alarm = H02Status.alarm(status) { message.alarms = [alarm] }
        }
        return message
    }

    /// Two decimal digits per byte; a nibble above 9 is not BCD.
    static func bcd(_ bytes: ArraySlice<UInt8>) throws(FrameRejection) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            let high = Int(byte >> 4)
            let low = Int(byte & 0x0F)
            guard high < 10, low < 10 else { throw H02TextDecoder.reject(.badGPSBlock, "a time, date or coordinate byte is not BCD") }
            out.append(high)
            out.append(low)
        }
        return out
    }

    static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
