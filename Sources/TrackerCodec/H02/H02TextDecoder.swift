/// Decodes H02 text frames, `*XX,<id>,<type>,<fields…>#`.
///
/// The position block is found by its shape, not its field position: a latitude field
/// followed by `N|S`, a longitude and `E|W`, with the validity field before them. That one
/// rule reads `V1`, `V2`/`VI1` (a digit for validity), `V19` (SIM fields after the date),
/// `VP1` (no time) and `V4` (result fields before the block), whatever the firmware adds.
enum H02TextDecoder {
    static func decode(_ frame: [UInt8]) throws(FrameRejection) -> DeviceMessage {
        guard frame.count >= 6, frame.first == Ascii.star, frame.last == Ascii.hash else {
            throw reject(.badHeader, "not a *XX,<id>,<type>…# frame")
        }
        let fields = split(frame)
        guard fields.count >= 3 else { throw reject(.badHeader, "fewer than 3 fields (maker, id, type)") }
        let idField = frame[fields[1]]
        var deviceID: String?
        if !idField.isEmpty {
            guard DeviceID.isValid(utf8: idField) else {
                throw reject(.badDeviceID, "device id must be 1-64 characters of A-Z a-z 0-9 _ - and not 'bridge'")
            }
            deviceID = String(decoding: idField, as: UTF8.self)
        }
        let typeField = frame[fields[2]]
        guard typeField.count <= 8, typeField.allSatisfy({ Ascii.isDigit($0) || Ascii.isLetter($0) }) else {
            throw reject(.badHeader, "the type field is not up to 8 letters or digits")
        }
        let type = String(decoding: typeField, as: UTF8.self)
        let bodyStart = fields.count > 3 ? fields[3].lowerBound : frame.count - 1
        var message = DeviceMessage(
            protocolName: .h02, raw: frame, messageType: type, bodyRange: bodyStart..<(frame.count - 1),
            deviceID: deviceID, content: .event(.unknownFrame)
        )
        switch type {
        case "V1", "V2", "VI1", "V19", "VP1", "V4":
            message.isCommandReply = type == "V4"
            // Without a block (a reply without position, VP1 with cell towers instead) the
            // frame is still a well-formed answer of the device: published, never a position.
            guard let block = try PositionBlock(frame, fields: fields) else {
                message.content = message.isCommandReply ? .commandReply : .event(.noPosition)
                return message
            }
            if block.dateTime.isRealInstant {
                message.deviceClock = DeviceClock(time: block.dateTime, isUTC: true)
            }
            if let fix = block.fix {
                message.content = .position
                message.fix = fix
                if let status = block.status, let alarm = H02Status.alarm(status) {
                    message.alarms = [alarm]
                }
            } else {
                message.content = .event(.noPosition)
            }
        case "NBR", "V3":
            message.content = .event(.cellTowers)
        case "LINK", "HTBT":
            message.content = .heartbeat
        default:
            break
        }
        return message
    }

    /// Field ranges between `*` and `#`.
    static func split(_ frame: [UInt8]) -> [Range<Int>] {
        var fields: [Range<Int>] = []
        fields.reserveCapacity(24)
        let end = frame.count - 1
        frame.withUnsafeBufferPointer { bytes in
            var start = 1
            for i in 1..<end where bytes[i] == Ascii.comma {
                fields.append(start..<i)
                start = i + 1
            }
            fields.append(start..<end)
        }
        return fields
    }

    static func reject(_ reason: RejectReason, _ detail: String) -> FrameRejection {
        FrameRejection(reason: reason, raw: [], detail: detail)
    }
}

/// The position block of a text frame:
/// `[hhmmss,]<A|V|B|digit>,<lat>,<N|S>,<lon>,<E|W>,<speed>,<course>,[<battery>,]<ddmmyy>[,…,<status>]`.
struct PositionBlock {
    var dateTime: CivilDateTime
    var valid: Bool
    var latitude: Double?
    var longitude: Double?
    var knots: Double
    var course: Double
    var status: UInt32?

    /// The fix, or nil when the block holds no position (empty or all-zero coordinates).
    var fix: Fix? {
        guard let latitude, let longitude, latitude != 0 || longitude != 0 else { return nil }
        return Fix(
            dateTime: dateTime, valid: valid, latitude: latitude, longitude: longitude, speed: .knots(knots),
            course: course, statusBits: status.map(H02Status.hex)
        )
    }

    /// Nil when the frame has no field sequence shaped like a block.
    init?(_ f: [UInt8], fields: [Range<Int>]) throws(FrameRejection) {
        guard let ns = Self.locate(f, fields) else { return nil }
        let text = { (i: Int) -> ArraySlice<UInt8> in f[fields[i]] }
        // Validity: A, V, B, or a digit "coding scheme" (V2, VI1), which means valid.
        let validity = text(ns - 2)
        valid = validity.first == UInt8(ascii: "A") || validity.first.map(Ascii.isDigit) == true
        var time: (Int, Int, Int)?
        if ns - 3 >= 3, let t = Self.sixDigits(text(ns - 3)) { time = t }
        let latText = text(ns - 1)
        let lonText = text(ns + 1)
        if latText.isEmpty || lonText.isEmpty || f[fields[ns].lowerBound] == Ascii.zero {
            // `,V,,N,,E,` or `0.0000,0,0.0000,0`: no position, whatever else the block says.
            dateTime = CivilDateTime(year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0)
            valid = false
            latitude = nil
            longitude = nil
            knots = 0
            course = 0
            status = nil
            return
        } else {
            let lat = try Self.coordinate(latText, field: "latitude")
            let lon = try Self.coordinate(lonText, field: "longitude")
            guard lat <= 90 else { throw H02TextDecoder.reject(.coordinateOutOfRange, "latitude over 90 degrees") }
            guard lon <= 180 else { throw H02TextDecoder.reject(.coordinateOutOfRange, "longitude over 180 degrees") }
            latitude = roundTo6(f[fields[ns].lowerBound] == UInt8(ascii: "S") ? -lat : lat)
            longitude = roundTo6(f[fields[ns + 2].lowerBound] == UInt8(ascii: "W") ? -lon : lon)
        }
        guard ns + 4 < fields.count else { throw H02TextDecoder.reject(.badGPSBlock, "speed and course are missing") }
        knots = try Self.decimal(text(ns + 3), field: "speed")
        course = try Self.decimal(text(ns + 4), field: "course")
        guard course <= 360 else { throw H02TextDecoder.reject(.badGPSBlock, "course over 360 degrees") }
        // The date follows the course, or a battery field between them.
        var dateIndex = ns + 5
        if dateIndex < fields.count, Self.sixDigits(text(dateIndex)) == nil, dateIndex + 1 < fields.count,
            Self.sixDigits(text(dateIndex + 1)) != nil
        {
            dateIndex += 1
        }
        guard dateIndex < fields.count else {
            throw H02TextDecoder.reject(.badGPSBlock, "the date (ddmmyy) is missing")
        }
        // Without a time (VP1) or a date (an empty field, as some units send with no fix),
        // the hour is out of range, so the fix time is not taken as a real instant and the
        // server's receive time stands in.
        let date: (Int, Int, Int)
        if let given = Self.sixDigits(text(dateIndex)) {
            date = given
        } else if text(dateIndex).isEmpty {
            date = (0, 0, 0)
            time = nil
        } else {
            throw H02TextDecoder.reject(.badGPSBlock, "the date (ddmmyy) is not numeric")
        }
        let (hour, minute, second) = time ?? (99, 0, 0)
        dateTime = CivilDateTime(year: 2000 + date.2, month: date.1, day: date.0, hour: hour, minute: minute, second: second)
        status = nil
        for i in (dateIndex + 1)..<max(dateIndex + 1, fields.count) {
            if let word = Self.statusWord(text(i)) {
                status = word
                break
            }
        }
    }

    /// The index of the `N|S` field: one letter, followed two fields later by `E|W`, with a
    /// the validity two fields before it. `0` stands for both letters in all-zero blocks.
    static func locate(_ f: [UInt8], _ fields: [Range<Int>]) -> Int? {
        var i = 5
        while i + 2 < fields.count {
            if isLetter(f, fields[i], "N", "S", "0"), isLetter(f, fields[i + 2], "E", "W", "0") {
                return i
            }
            i += 1
        }
        return nil
    }

    static func isLetter(_ f: [UInt8], _ r: Range<Int>, _ a: Unicode.Scalar, _ b: Unicode.Scalar, _ c: Unicode.Scalar) -> Bool {
        r.count == 1 && (f[r.lowerBound] == UInt8(ascii: a) || f[r.lowerBound] == UInt8(ascii: b) || f[r.lowerBound] == UInt8(ascii: c))
    }

    static func sixDigits(_ s: ArraySlice<UInt8>) -> (Int, Int, Int)? {
        guard s.count == 6, s.allSatisfy(Ascii.isDigit) else { return nil }
        let b = s.startIndex
        func two(_ o: Int) -> Int { Int(s[b + o] &- Ascii.zero) * 10 + Int(s[b + o + 1] &- Ascii.zero) }
        return (two(0), two(2), two(4))
    }

    static func statusWord(_ s: ArraySlice<UInt8>) -> UInt32? {
        guard s.count == 8 else { return nil }
        var value: UInt32 = 0
        for byte in s {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - Ascii.zero
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt32(nibble)
        }
        return value
    }

    /// Degrees from the three spellings: `DDMM.MMMM` (1-3 degree digits), `-DD-MM.MMMM`, and
    /// `DDMMmmmm` without a dot (the last six digits are minutes × 10⁴).
    static func coordinate(_ s: ArraySlice<UInt8>, field: String) throws(FrameRejection) -> Double {
        var degrees = 0
        var minutes: Double
        if s.first == Ascii.minus {
            // -DD-MM.MMMM
            guard let second = s.dropFirst().firstIndex(of: Ascii.minus), second > s.startIndex + 1 else {
                throw H02TextDecoder.reject(.badGPSBlock, "\(field) is malformed")
            }
            degrees = try integer(s[(s.startIndex + 1)..<second], field: field)
            minutes = try decimal(s[(second + 1)...], field: field)
        } else if let dot = s.firstIndex(of: Ascii.dot) {
            let whole = s[s.startIndex..<dot]
            guard whole.count >= 3, whole.count <= 5 else { throw H02TextDecoder.reject(.badGPSBlock, "\(field) is malformed") }
            degrees = try integer(whole.dropLast(2), field: field)
            minutes = try decimal(s[(dot - 2)...], field: field)
        } else {
            guard s.count >= 7, s.count <= 9 else { throw H02TextDecoder.reject(.badGPSBlock, "\(field) is malformed") }
            degrees = try integer(s.dropLast(6), field: field)
            minutes = Double(try integer(s.suffix(6), field: field)) / 10_000
        }
        guard minutes < 60 else { throw H02TextDecoder.reject(.coordinateOutOfRange, "\(field) minutes of 60 or more") }
        return Double(degrees) + minutes / 60
    }

    static func integer(_ s: ArraySlice<UInt8>, field: String) throws(FrameRejection) -> Int {
        guard !s.isEmpty, s.count <= 9 else { throw H02TextDecoder.reject(.badGPSBlock, "\(field) is not numeric") }
        var value = 0
        for byte in s {
            guard Ascii.isDigit(byte) else { throw H02TextDecoder.reject(.badGPSBlock, "\(field) is not numeric") }
            value = value * 10 + Int(byte &- Ascii.zero)
        }
        return value
    }

    /// Digits with at most one decimal point; leading spaces allowed (`  3.34`); empty is 0
    /// (units leave the course empty when standing).
    static func decimal(_ s: ArraySlice<UInt8>, field: String) throws(FrameRejection) -> Double {
        var mantissa = 0
        var fractionDigits = -1
        var digits = 0
        for byte in s where byte != 0x20 {
            if Ascii.isDigit(byte) {
                guard digits < 15 else { throw H02TextDecoder.reject(.badGPSBlock, "\(field) has too many digits") }
                mantissa = mantissa * 10 + Int(byte &- Ascii.zero)
                digits += 1
                if fractionDigits >= 0 { fractionDigits += 1 }
            } else if byte == Ascii.dot, fractionDigits < 0 {
                fractionDigits = 0
            } else {
                throw H02TextDecoder.reject(.badGPSBlock, "\(field) is not numeric")
            }
        }
        return fractionDigits > 0 ? Double(mantissa) / powersOfTen[fractionDigits] : Double(mantissa)
    }

    private static let powersOfTen: [Double] = [
        1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ]
}
