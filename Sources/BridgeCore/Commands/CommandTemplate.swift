import TrackerCodec

/// One way of writing a command type to a tracker: one entry of the template file
/// (`commands.<type>[n]`). Several variants may be listed per type (the SMS dialect, the
/// TK103-style word) and per protocol; at most one per protocol is enabled.
public struct CommandTemplate: Sendable, Equatable {
    /// A label for logs and error messages (`sms`, `tk103`).
    public let name: String
    /// The protocol of the devices this variant is for (`protocol:` in the file; carscop
    /// when absent, so files written before H02 mean what they meant).
    public let protocolName: ProtocolName
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

    init(
        name: String, protocolName: ProtocolName, enabled: Bool, framing: Framing, reply: ReplyPattern?, maxInFlight: Int,
        text: TemplateText
    ) {
        self.name = name
        self.protocolName = protocolName
        self.enabled = enabled
        self.framing = framing
        self.reply = reply
        self.maxInFlight = maxInFlight
        self.text = text
    }

    /// How the rendered template text is put on the wire: `raw` (byte for byte: the SMS
    /// dialect, `custom` data) or a protocol's own downlink frame (`carscop`: `*` + 12-digit
    /// local-time header + text + `^`; `h02`: `*HQ,<id>,<cmd>,<HHMMSS>,…#`).
    public enum Framing: Sendable, Equatable, CustomStringConvertible {
        case raw
        case framed(ProtocolName)

        /// `raw` or the name of a registered protocol.
        public init?(_ text: String) {
            if text == "raw" {
                self = .raw
            } else if let proto = TrackerProtocols.named(ProtocolName(rawValue: text)) {
                self = .framed(proto.name)
            } else {
                return nil
            }
        }

        public var description: String {
            switch self {
            case .raw: "raw"
            case .framed(let name): name.rawValue
            }
        }

        /// The names a template file may use.
        public static var names: [String] { ["raw"] + TrackerProtocols.all.map { $0.name.rawValue } }
    }
}

/// Recognises the device frame that answers a command, by plain comparisons only (no
/// regular expressions, so a template file cannot make matching slow): the frame's
/// message type (carscop's command word, H02's type) equals `word`, its body starts with
/// `bodyPrefix` and contains `bodyContains`, for each condition that is set. A matching
/// frame whose body contains `failureContains` (H02's `…,S20,ERROR,…`) fails the command
/// instead of acking it. Body strings may use the command's placeholders (not `{header}`),
/// rendered when the command is accepted.
public struct ReplyPattern: Sendable, Equatable {
    public let word: String?
    public let bodyPrefix: String?
    public let bodyContains: String?
    public let failureContains: String?
    let prefixText: TemplateText?
    let containsText: TemplateText?

    init(word: String?, bodyPrefix: String?, bodyContains: String?, failureContains: String? = nil) throws(TemplateSyntaxError) {
        self.word = word
        self.bodyPrefix = bodyPrefix
        self.bodyContains = bodyContains
        self.failureContains = failureContains
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
            bodyContains: try containsText?.render(values).text(header: ""),
            failureContains: failureContains
        )
    }
}

/// A reply pattern rendered for one command: literal strings only.
public struct ReplyMatcher: Sendable, Equatable {
    public let word: String?
    public let bodyPrefix: String?
    public let bodyContains: String?
    public let failureContains: String?

    public init(word: String?, bodyPrefix: String?, bodyContains: String?, failureContains: String? = nil) {
        self.word = word
        self.bodyPrefix = bodyPrefix
        self.bodyContains = bodyContains
        self.failureContains = failureContains
    }

    /// True when a matching reply says the command failed.
    public func isFailure(body: String) -> Bool {
        guard let failureContains, !failureContains.isEmpty else { return false }
        return body.contains(failureContains)
    }

    /// True when the frame of type `word` with `body` satisfies every condition set.
    public func matches(word frameWord: String, body: String) -> Bool {
        if let word, frameWord != word { return false }
        if let bodyPrefix, !body.hasPrefix(bodyPrefix) { return false }
        if let bodyContains, !bodyContains.isEmpty, !body.contains(bodyContains) { return false }
        return true
    }
}
