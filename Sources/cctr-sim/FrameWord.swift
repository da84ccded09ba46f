/// The command words the simulator sends, as in `carscop.md`.
enum FrameWord: String, CaseIterable, Sendable {
    case heartbeat = "UB00"
    case login = "UB05"
    case livePosition = "UD00"
    case history = "UD04"
    case alarm = "UA01"
    case requestedPosition = "UB04"
}
