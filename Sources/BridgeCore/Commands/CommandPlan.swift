/// A command's enabled template rendered with its values when the command was accepted:
/// what to write (except the header time, filled in when it is written) and what answers
/// it. Rendering up front means every problem is a `rejected` result, never a surprise
/// when the device comes back.
public struct CommandPlan: Sendable, Equatable {
    /// The template variant used (`sms`, `tk103`...).
    public let templateName: String
    public let framing: CommandTemplate.Framing
    /// The reply that acknowledges the command; `nil`: `sent` is final.
    public let reply: ReplyMatcher?
    /// From the template: how many commands may be in flight while this one is.
    public let maxInFlight: Int
    let text: FrameText

    init(templateName: String, framing: CommandTemplate.Framing, reply: ReplyMatcher?, maxInFlight: Int, text: FrameText) {
        self.templateName = templateName
        self.framing = framing
        self.reply = reply
        self.maxInFlight = maxInFlight
        self.text = text
    }

    /// The bytes to write at `milliseconds` (Unix epoch) to a device whose clock is
    /// `timeZoneOffsetSeconds` east of UTC (`{header}` and carscop framing use it).
    public func frame(now milliseconds: Int64, timeZoneOffsetSeconds: Int) -> [UInt8] {
        Self.frame(text, framing: framing, milliseconds: milliseconds, offsetSeconds: timeZoneOffsetSeconds)
    }

    static func frame(_ text: FrameText, framing: CommandTemplate.Framing, milliseconds: Int64, offsetSeconds: Int) -> [UInt8] {
        let header = FrameText.header(milliseconds: milliseconds, offsetSeconds: offsetSeconds)
        let body = text.text(header: header)
        switch framing {
        case .raw: return Array(body.utf8)
        case .carscop: return Array("*\(header)\(body)^".utf8)
        }
    }
}
