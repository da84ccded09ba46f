/// The frame types the simulator sends: carscop's command words (`carscop.md`) and H02's
/// types (`h02.md`; `binary` for `$` frames).
enum FrameWord: String, CaseIterable, Sendable {
    case heartbeat = "UB00"
    case login = "UB05"
    case livePosition = "UD00"
    case history = "UD04"
    case alarm = "UA01"
    case requestedPosition = "UB04"
    case h02Position = "V1"
    case h02Heartbeat = "LINK"
    case h02Reply = "V4"
    case h02Binary = "binary"
}
