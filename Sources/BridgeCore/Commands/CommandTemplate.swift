/// One way of writing a command type to a tracker: one entry of the template file
/// (`commands.<type>[n]`). Several variants may be listed per type (the SMS dialect, the
/// TK103-style word); at most one is enabled.
public struct CommandTemplate: Sendable, Equatable {
    /// A label for logs and error messages (`sms`, `tk103`).
    public let name: String
    public let enabled: Bool
    /// How the rendered text becomes the bytes written to the tracker.
    public let framing: Framing
    /// The device frame that acknowledges the command; `nil`: no reply is expected and
    /// `sent` is the final result.
    public let reply: ReplyPattern?
    /// How many commands may await their reply at once while this one is in flight
    /// (default 1: one at a time).
    public let maxInFlight: Int
    let text: TemplateText

    init(name: String, enabled: Bool, framing: Framing, reply: ReplyPattern?, maxInFlight: Int, text: TemplateText) {
        self.name = name
        self.enabled = enabled
        self.framing = framing
        self.reply = reply
        self.maxInFlight = maxInFlight
        self.text = text
    }

    /// How the rendered template text is put on the wire.
    public enum Framing: String, Sendable, CaseIterable {
        /// The text as is, byte for byte (the SMS dialect; `custom` data).
        case raw
        /// A frame like the tracker's own: `*` + 12-digit header (`yymmddhhmmss`, the write
        /// time in the device's time zone) + text + `^`. The text must not contain `^`.
        case carscop
    }
}

/// Recognises the device frame that answers a command, by plain comparisons only (no
/// regular expressions, so a template file cannot make matching slow): the frame's
/// 4-character command word equals `word`, its body starts with `bodyPrefix` and contains
/// `bodyContains`, for each condition that is set. Body strings may use the command's
/// placeholders (not `{header}`), rendered when the command is accepted.
public struct ReplyPattern: Sendable, Equatable {
    public let word: String?
    public let bodyPrefix: String?
    public let bodyContains: String?
    let prefixText: TemplateText?
    let containsText: TemplateText?

    init(word: String?, bodyPrefix: String?, bodyContains: String?) throws(TemplateSyntaxError) {
        self.word = word
        self.bodyPrefix = bodyPrefix
        self.bodyContains = bodyContains
        prefixText = try bodyPrefix.map { s throws(TemplateSyntaxError) in try TemplateText(parsing: s) }
        containsText = try bodyContains.map { s throws(TemplateSyntaxError) in try TemplateText(parsing: s) }
        if (prefixText?.placeholders ?? []).union(containsText?.placeholders ?? []).contains(.header) {
            throw TemplateSyntaxError("a reply pattern cannot use {header} (the device's clock is not ours)")
        }
    }

    /// The pattern with this command's values filled in.
    func render(_ values: PlaceholderValues) throws(TemplateText.RenderError) -> ReplyMatcher {
        ReplyMatcher(
            word: word,
            bodyPrefix: try prefixText?.render(values).text(header: ""),
            bodyContains: try containsText?.render(values).text(header: "")
        )
    }
}

/// A reply pattern rendered for one command: literal strings only.
public struct ReplyMatcher: Sendable, Equatable {
    public let word: String?
    public let bodyPrefix: String?
    public let bodyContains: String?

    public init(word: String?, bodyPrefix: String?, bodyContains: String?) {
        self.word = word
        self.bodyPrefix = bodyPrefix
        self.bodyContains = bodyContains
    }

    /// True when the frame with command word `word` and `body` satisfies every condition set.
    public func matches(word frameWord: String, body: String) -> Bool {
        if let word, frameWord != word { return false }
        if let bodyPrefix, !body.hasPrefix(bodyPrefix) { return false }
        if let bodyContains, !bodyContains.isEmpty, !body.contains(bodyContains) { return false }
        return true
    }
}
