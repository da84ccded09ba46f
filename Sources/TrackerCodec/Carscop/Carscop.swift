extension ProtocolName {
    public static let carscop = ProtocolName(rawValue: "carscop")
}

/// The CCTR-801 family's own protocol: `*` + 12-digit local-time header + 4-character
/// command word + body + `^` (`../shared/protocol/carscop.md`). Only the login (`UB05`)
/// names the device. No answer is required; acknowledgements are optional templates.
public enum Carscop: TrackerProtocol {
    public static let name = ProtocolName.carscop

    public static func makeFramer(options: CodecOptions) -> any TrackerFramer {
        CarscopFramer()
    }

    public static func decode(_ frame: [UInt8]) throws(FrameRejection) -> DeviceMessage {
        let parsed = try CarscopDecoder.parse(frame)
        var message = DeviceMessage(
            protocolName: .carscop, raw: frame, messageType: parsed.word, bodyRange: 17..<(frame.count - 1),
            deviceClock: DeviceClock(time: parsed.header, isUTC: false), content: .position, fix: parsed.gps?.fix
        )
        switch parsed.kind {
        case .heartbeat:
            message.content = .heartbeat
        case .login(let id):
            message.deviceID = String(decoding: frame[id], as: UTF8.self)
        case .position:
            break
        case .history:
            message.content = .history
        case .alarm(let code, let label):
            let codeText = String(latin1: frame[code])
            message.content = .alarm(DeviceAlarm(name: alarmName(code: codeText), code: codeText, label: String(latin1: frame[label])))
        case .unknown:
            message.content = .event(.unknownFrame)
        }
        return message
    }

    public static func answer(to message: DeviceMessage, deviceID: String, now: CivilDateTime) -> [UInt8]? {
        nil
    }

    /// `*` + the device's local time as `yymmddhhmmss` + text + `^`, like the tracker's own frames.
    public static func frameCommand(_ text: String, deviceID: String, now: CivilDateTime, deviceClock: CivilDateTime) -> [UInt8] {
        var bytes: [UInt8] = [Ascii.star]
        bytes.append(contentsOf: deviceClock.compactDigits(yearDigits: 2).utf8)
        bytes.append(contentsOf: text.utf8)
        bytes.append(Ascii.caret)
        return bytes
    }

    /// Traccar's name for a carscop / TK103 alarm code digit.
    public static func alarmName(code: String) -> AlarmName {
        switch code {
        case "0": .powerCut
        case "1": .accident
        case "2": .sos
        case "3": .vibration
        case "4": .lowspeed
        case "5": .overspeed
        case "6": .geofenceExit
        case "7": .movement
        default: .general
        }
    }
}

/// Carscop frames start with `*`. It is also the port's catch-all for `*`: a `*` that no
/// other protocol claims is read as a (possibly malformed) carscop frame, as before H02
/// shared the port, so its dead letter says what is wrong with the header.
struct CarscopFramer: TrackerFramer {
    var startBytes: [UInt8] { [Ascii.star] }

    func sniff(_ head: ArraySlice<UInt8>, endOfInput: Bool) -> Sniff {
        guard head.first == Ascii.star else { return .notMine }
        let i = head.startIndex
        guard head.count >= 2 else { return endOfInput ? .frame(.terminated(by: Ascii.caret)) : .needMore }
        if Ascii.isDigit(head[i + 1]) { return .frame(.terminated(by: Ascii.caret)) }
        // `*` + two letters + `,` is H02's text frame (`*HQ,`).
        guard Ascii.isLetter(head[i + 1]) else { return .frame(.terminated(by: Ascii.caret)) }
        guard head.count >= 4 else { return endOfInput ? .frame(.terminated(by: Ascii.caret)) : .needMore }
        if Ascii.isLetter(head[i + 2]), head[i + 3] == Ascii.comma { return .notMine }
        return .frame(.terminated(by: Ascii.caret))
    }

    /// `*` followed by 12 digits: a header, so a new frame.
    func restartsInside(_ head: ArraySlice<UInt8>) -> Lookahead {
        guard head.first == Ascii.star else { return .no }
        var i = head.startIndex + 1
        while i <= head.startIndex + 12 {
            guard i < head.endIndex else { return .needMoreInput }
            guard Ascii.isDigit(head[i]) else { return .no }
            i += 1
        }
        return .yes
    }

    func endOfInput() {}
}

extension GPSBlock {
    /// Coordinates are null only for the `0000.0000N00000.0000E` filler of a unit without a fix.
    var fix: Fix {
        let noPosition = !valid && hasFillerCoordinates
        return Fix(
            dateTime: dateTime, valid: valid, latitude: noPosition ? nil : latitude, longitude: noPosition ? nil : longitude,
            speed: .deviceUnit(speed), course: course, statusBits: statusBits, odometer: odometer
        )
    }
}
