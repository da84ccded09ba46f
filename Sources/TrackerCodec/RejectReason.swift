/// Why input did not become a published message. The raw values are the dead-letter
/// `reason` strings of the public contract, so they must never change.
public enum RejectReason: String, Sendable, CaseIterable {
    case badHeader = "bad header"
    case badGPSBlock = "bad gps block"
    case coordinateOutOfRange = "coordinate out of range"
    case badDeviceID = "bad device id"
    case truncatedFrame = "truncated frame"
    case oversizeFrame = "oversize frame"
    case garbage = "garbage"
    case neverIdentified = "never identified"
    case heldFramesOverflow = "held frames overflow"
    case notInAllowlist = "not in allowlist"
    case retainedCommand = "retained command"
    /// A TCP connection sent a frame of another protocol than its first frame's.
    case protocolSwitch = "protocol switch"
}
