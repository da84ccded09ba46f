import Synchronization

/// Remembers, per device, the fix time of the last position published retained, so an older
/// valid fix (a replay, a late frame) never replaces a newer retained one. Shared by every
/// connection of the process, hence the lock.
public final class RetainedPositions: Sendable {
    private let fixTimes = Mutex<[String: Int64]>([:])

    public init() {}

    /// True (and recorded) when a valid fix at `fixTime` may be retained for `deviceID`.
    public func shouldRetain(deviceID: String, fixTime: Int64) -> Bool {
        fixTimes.withLock { times in
            if let retained = times[deviceID], retained > fixTime {
                return false
            }
            times[deviceID] = fixTime
            return true
        }
    }

    /// Forgets a device (after `cctr-bridge forget` cleared its retained topics).
    public func forget(deviceID: String) {
        _ = fixTimes.withLock { $0.removeValue(forKey: deviceID) }
    }
}
