/// How a simulated tracker answers what the server sends it.
///
/// No downlink format is documented for carscop (`carscop.md`, "Server to device"), so the
/// only carscop answer is the TK103 analogue: `AP00` ("position now") gets a `UB04`
/// position. H02 units answer `S20` (engine), `SCF` (alarm arm) and `S71` (interval) with a
/// `V4` reply (`h02.md`). Everything else is counted and logged.
enum DeviceReplies {
    /// What the device does about one downlink message.
    enum Reply: Equatable {
        /// Send a `UB04` position frame now.
        case position
        /// Send `V4,<command>,DONE,<the command's time>,…` (H02).
        case h02Done(command: Substring, time: Substring)
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

    /// H02 commands the simulated units carry out.
    static let h02Commands: Set<Substring> = ["S20", "SCF", "S71"]

    static func reply(to message: Substring) -> Reply {
        let fields = message.split(separator: ",", omittingEmptySubsequences: false)
        if fields.count >= 4, fields[0].hasSuffix("*HQ"), h02Commands.contains(fields[2]) {
            return .h02Done(command: fields[2], time: fields[3])
        }
        return message.contains("AP00") ? .position : .none
    }
}
