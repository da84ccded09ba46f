import TrackerCodec

/// A command's enabled template rendered with its values when the command was accepted:
/// what to write (except the header time, filled in when it is written) and what answers
/// it. Rendering up front means every problem is a `rejected` result, never a surprise
/// when the device comes back.
public struct CommandPlan: Sendable, Equatable {
    /// The template variant used (`sms`, `tk103`...).
    public let templateName: String
    /// The device the plan was rendered for (protocol framing names it).
    public let deviceID: String
    public let framing: CommandTemplate.Framing
    /// The reply that acknowledges the command; `nil`: `sent` is final.
    public let reply: ReplyMatcher?
    /// From the template: how many commands may be in flight while this one is.
    public let maxInFlight: Int
    let text: FrameText

    init(
        templateName: String, deviceID: String, framing: CommandTemplate.Framing, reply: ReplyMatcher?, maxInFlight: Int,
        text: FrameText
    ) {
        self.templateName = templateName
        self.deviceID = deviceID
        self.framing = framing
        self.reply = reply
        self.maxInFlight = maxInFlight
        self.text = text
    }

    /// The bytes to write at `milliseconds` (Unix epoch) to a device whose clock is
    /// `timeZoneOffsetSeconds` east of UTC (`{header}` and carscop framing use it).
    public func frame(now milliseconds: Int64, timeZoneOffsetSeconds: Int) -> [UInt8] {
        Self.frame(text, framing: framing, deviceID: deviceID, milliseconds: milliseconds, offsetSeconds: timeZoneOffsetSeconds)
    }

    static func frame(
        _ text: FrameText, framing: CommandTemplate.Framing, deviceID: String, milliseconds: Int64, offsetSeconds: Int
    ) -> [UInt8] {
        let body = text.text(header: FrameText.header(milliseconds: milliseconds, offsetSeconds: offsetSeconds))
        switch framing {
        case .raw:
            return Array(body.utf8)
        case .framed(let name):
            guard let proto = TrackerProtocols.named(name) else { return Array(body.utf8) }
            let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
            return proto.frameCommand(
                body, deviceID: deviceID, now: CivilDateTime(secondsSinceEpoch: seconds),
                deviceClock: CivilDateTime(secondsSinceEpoch: seconds + Int64(offsetSeconds))
            )
        }
    }
}
