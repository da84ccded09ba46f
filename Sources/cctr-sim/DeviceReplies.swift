/// How a simulated tracker answers what the server sends it.
///
/// No downlink format is documented for carscop (`carscop.md`, "Server to device"), so the
/// only answer today is the TK103 analogue: `AP00` ("position now") gets a `UB04` position.
/// Everything else is counted and logged. Extend `reply(to:)` when command templates exist.
enum DeviceReplies {
    /// What the device does about one downlink message.
    enum Reply: Equatable {
        /// Send a `UB04` position frame now.
        case position
        /// Nothing to send; the message is only counted and logged.
        case none
    }

    /// Characters that end a downlink message: carscop's `^`, H02's `#`, TK103's `)`, and
    /// line ends for the SMS dialect. A message is never assumed to span two reads, because
    /// a server writes a command in one go and SMS-style commands carry no terminator at all.
    private static let terminators: Set<Character> = ["^", "#", ")", "\r", "\n", "\0"]

    /// The non-empty messages in one read from the server.
    static func messages(in text: String) -> [Substring] {
        text.split(whereSeparator: { terminators.contains($0) })
            .filter { !$0.allSatisfy(\.isWhitespace) }
    }

    static func reply(to message: Substring) -> Reply {
        message.contains("AP00") ? .position : .none
    }
}
