/// Who holds each device's session across the instances of one fleet, and which instances
/// are alive: the one place the bridge tracks ownership. `DeviceDirectory` keeps it (it feeds
/// this instance's own session starts and ends, and takes its `session_epoch` from here), and
/// command routing asks it where a command goes.
///
/// It is fed once per `status` message, live or retained (a live view converges even where
/// retained messages stay on one broker node, since the owner refreshes each online device's
/// status every `--status-interval`), and once per `<base>/bridge/<instance>/state` message.
/// The newest claim wins: the highest `session_epoch`, which rises across sessions and
/// instances, so a late or retained status of an older session never takes a device back.
public struct OwnershipView: Sendable {
    /// What one status message says about a device's session.
    public struct Claim: Sendable, Equatable {
        public var instance: String
        public var epoch: Int64
        public var online: Bool

        public init(instance: String, epoch: Int64, online: Bool) {
            self.instance = instance
            self.epoch = epoch
            self.online = online
        }
    }

    /// This instance's name.
    public let instance: String
    /// The newest claim per device.
    public private(set) var claims: [String: Claim] = [:]
    /// Other instances whose latest `state` was `online`.
    public private(set) var members: Set<String> = []

    public init(instance: String) {
        self.instance = instance
    }

    // MARK: - Feeding

    /// Records a device's status. Returns true when it shows a newer online session held by
    /// another instance than the one known before: commands this instance keeps for the device
    /// must follow it there (hand-over).
    @discardableResult
    public mutating func observe(deviceID: String, _ claim: Claim) -> Bool {
        let known = claims[deviceID]
        if let known, !Self.supersedes(claim, known) { return false }
        claims[deviceID] = claim
        return claim.online && claim.instance != instance && claim != known
    }

    /// A status with an empty payload: `cctr-bridge forget` cleared the device.
    public mutating func forget(deviceID: String) {
        claims[deviceID] = nil
    }

    /// This instance started a session for the device; returns its `session_epoch`,
    /// `max(now, previous + 1)` so that it is newer than every claim seen for the device.
    public mutating func sessionStarted(deviceID: String, now: Int64) -> Int64 {
        let epoch = max(now, (claims[deviceID]?.epoch ?? 0) + 1)
        claims[deviceID] = Claim(instance: instance, epoch: epoch, online: true)
        return epoch
    }

    /// This instance's session `epoch` for the device ended.
    public mutating func sessionEnded(deviceID: String, epoch: Int64) {
        observe(deviceID: deviceID, Claim(instance: instance, epoch: epoch, online: false))
    }

    /// An instance's `state` message (`online` / `offline`, the latter also its last will).
    /// Returns true when another instance newly came online: this instance then announces
    /// itself again, since a broker that keeps retained messages per node, or never sends them
    /// on wildcard subscriptions, would not tell the newcomer that it exists.
    @discardableResult
    public mutating func memberState(_ member: String, online: Bool) -> Bool {
        guard member != instance else { return false }
        if online { return members.insert(member).inserted }
        members.remove(member)
        return false
    }

    // MARK: - Questions

    /// The instance holding the device's live session, if a living one does: a claim by an
    /// instance that went offline (crashed with the device online) holds nothing.
    public func owner(of deviceID: String) -> String? {
        guard let claim = claims[deviceID], claim.online, isAlive(claim.instance) else { return nil }
        return claim.instance
    }

    /// The devices whose newest claim is an online session on `member`: when `member` is seen
    /// alive only after its claims (a newcomer's retained statuses may come before the
    /// instances' states), commands kept here for them must follow.
    public func devices(heldBy member: String) -> [String] {
        claims.compactMap { $0.value.online && $0.value.instance == member ? $0.key : nil }
    }

    /// The newest claim's `session_epoch` (0 when none is known).
    public func epoch(of deviceID: String) -> Int64 {
        claims[deviceID]?.epoch ?? 0
    }

    /// Whether `member` is this instance or one whose latest `state` was `online`.
    public func isAlive(_ member: String) -> Bool {
        member == instance || members.contains(member)
    }

    /// The instance that keeps commands for a device nobody holds: the device's last owner
    /// while it is alive (the device is likely to come back to it, so nothing has to move),
    /// else the rendezvous choice among the living instances, so that every instance with the
    /// same membership picks the same one and a membership change moves only the devices of
    /// the instance that came or went.
    public func custodian(of deviceID: String) -> String {
        if let last = claims[deviceID]?.instance, isAlive(last) { return last }
        return Self.rendezvous(key: deviceID, among: members.union([instance]))
    }

    /// Highest-random-weight choice of `key` among `candidates` (non-empty), with a hash that
    /// is the same in every process (Swift's `Hasher` is seeded per process).
    public static func rendezvous(key: String, among candidates: Set<String>) -> String {
        candidates.max { a, b in
            let (wa, wb) = (weight(a, key), weight(b, key))
            return wa != wb ? wa < wb : a < b
        } ?? ""
    }

    // MARK: - Internals

    /// Whether `claim` replaces `known`: a newer session, the end of the known session, or
    /// the same epoch from another instance (impossible in practice; decided by name so that
    /// every instance decides alike).
    private static func supersedes(_ claim: Claim, _ known: Claim) -> Bool {
        if claim.epoch != known.epoch { return claim.epoch > known.epoch }
        if claim.instance != known.instance { return claim.instance > known.instance }
        return known.online && !claim.online
    }

    /// FNV-1a over `member`, a separator and `key`, then a 64-bit finaliser (SplitMix64) so
    /// that names differing in one character spread over the whole range.
    private static func weight(_ member: String, _ key: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in Array(member.utf8) + [0] + Array(key.utf8) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        return hash ^ (hash >> 31)
    }
}
