import TrackerCodec
import DequeModule

/// The login state of one connection (TCP) or source address (UDP), as a value that returns
/// actions: no sockets, no clock (times are passed in), so every rule is unit-testable.
///
/// A frame that names a device (carscop's `UB05` login, every H02 frame) binds the session to
/// it; which frames do is the protocol's business, not the session's. Frames that arrive
/// before any names the device are held, bounded in count and age, and released in arrival
/// order before the naming frame; whatever is still held when the session closes is
/// dead-lettered (`never identified`).
public struct DeviceSession: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Frames held before the login (`--held-frames-max`).
        public var heldFramesMax: Int
        /// Oldest a held frame may get, in milliseconds (`--held-frames-age`).
        public var heldFramesMaxAge: Int64

        public init(heldFramesMax: Int = 64, heldFramesMaxAge: Int64 = 600_000) {
            self.heldFramesMax = heldFramesMax
            self.heldFramesMaxAge = heldFramesMaxAge
        }
    }

    public enum Action: Sendable, Equatable {
        /// The session now belongs to `deviceID`; `previous` is the device it belonged to
        /// before a rebind (that device's session ended).
        case loggedIn(deviceID: String, previous: String?)
        /// Publish this frame for the device, with the time it was received.
        case deliver(DeviceMessage, deviceID: String, receivedAt: Int64)
        /// A heartbeat; `deviceID` is nil before the login.
        case heartbeat(DeviceMessage, deviceID: String?, receivedAt: Int64)
        case deadLetter(FrameRejection, deviceID: String?, receivedAt: Int64)
        /// The session ended while bound to `deviceID` (close, or nothing more to say).
        case ended(deviceID: String)
    }

    public let limits: Limits
    public private(set) var deviceID: String?
    private var held: Deque<(frame: DeviceMessage, receivedAt: Int64)> = []
    private let isAllowed: @Sendable (String) -> Bool

    /// - Parameter isAllowed: the device allowlist (`--allowlist`); ids it refuses are
    ///   dead-lettered (`not in allowlist`) and do not log the session in.
    public init(limits: Limits = Limits(), isAllowed: @escaping @Sendable (String) -> Bool = { _ in true }) {
        self.limits = limits
        self.isAllowed = isAllowed
    }

    public var heldCount: Int { held.count }

    /// A decoded frame arrived.
    public mutating func receive(_ frame: DeviceMessage, at now: Int64, into actions: inout [Action]) {
        expireHeld(now: now, into: &actions)
        if let id = frame.deviceID {
            guard isAllowed(id) else {
                actions.append(.deadLetter(
                    FrameRejection(reason: .notInAllowlist, raw: frame.raw, detail: "device \(id) is not in the allowlist"),
                    deviceID: nil, receivedAt: now
                ))
                return
            }
            if deviceID != id {
                let previous = deviceID
                if let previous { actions.append(.ended(deviceID: previous)) }
                deviceID = id
                actions.append(.loggedIn(deviceID: id, previous: previous))
                while let entry = held.popFirst() {
                    actions.append(.deliver(entry.frame, deviceID: id, receivedAt: entry.receivedAt))
                }
            }
            actions.append(frame.isHeartbeat ? .heartbeat(frame, deviceID: id, receivedAt: now) : .deliver(frame, deviceID: id, receivedAt: now))
        } else if frame.isHeartbeat {
            actions.append(.heartbeat(frame, deviceID: deviceID, receivedAt: now))
        } else if let deviceID {
            actions.append(.deliver(frame, deviceID: deviceID, receivedAt: now))
        } else {
            if held.count >= limits.heldFramesMax, let oldest = held.popFirst() {
                actions.append(.deadLetter(
                    FrameRejection(
                        reason: .heldFramesOverflow, raw: oldest.frame.raw,
                        detail: "more than \(limits.heldFramesMax) frames before the login"
                    ),
                    deviceID: nil, receivedAt: oldest.receivedAt
                ))
            }
            held.append((frame, now))
        }
    }

    /// Binds the session to a device known from before (a UDP address whose binding survived
    /// a restart), as if its login had just arrived.
    public mutating func resume(deviceID id: String, into actions: inout [Action]) {
        guard deviceID == nil, isAllowed(id) else { return }
        deviceID = id
        actions.append(.loggedIn(deviceID: id, previous: nil))
    }

    /// Bytes that did not decode: dead-lettered under the current device, if any. A login
    /// with a refused id names no device: it claims one the session is not bound to.
    public func reject(_ rejection: FrameRejection, at now: Int64, into actions: inout [Action]) {
        let owner = rejection.reason == .badDeviceID ? nil : deviceID
        actions.append(.deadLetter(rejection, deviceID: owner, receivedAt: now))
    }

    /// Dead-letters held frames older than the age bound; call it from a timer too, so frames
    /// do not wait for the next input to age out.
    public mutating func expireHeld(now: Int64, into actions: inout [Action]) {
        while let first = held.first, now - first.receivedAt > limits.heldFramesMaxAge {
            held.removeFirst()
            actions.append(.deadLetter(
                FrameRejection(
                    reason: .heldFramesOverflow, raw: first.frame.raw,
                    detail: "held longer than \(limits.heldFramesMaxAge / 1000) s without a login"
                ),
                deviceID: nil, receivedAt: first.receivedAt
            ))
        }
    }

    /// The connection closed (or the UDP binding expired).
    public mutating func close(into actions: inout [Action]) {
        while let entry = held.popFirst() {
            actions.append(.deadLetter(
                FrameRejection(reason: .neverIdentified, raw: entry.frame.raw, detail: "no frame on this connection named its device (carscop: no UB05 login)"),
                deviceID: nil, receivedAt: entry.receivedAt
            ))
        }
        if let deviceID {
            actions.append(.ended(deviceID: deviceID))
            self.deviceID = nil
        }
    }
}
