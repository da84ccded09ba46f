/// Which filter takes this instance's commands, decided at every broker connection: the
/// shared subscription `$share/<group>/<base>/+/cmd` where the broker offers it, else the plain
/// `<base>/+/cmd` (`RoutingMode.broadcast`). A plain value returning the subscriptions to make.
///
/// `$share` is used only on an MQTT 5 connection whose CONNACK does not say "Shared
/// Subscription Available = 0", and until the broker refuses it (a SUBACK ≥ 0x80, e.g. 0x9E,
/// or a connection closed right after the SUBSCRIBE, as ejabberd does): `sharedRefused`. An
/// MQTT 3.1.1 connection always broadcasts: RabbitMQ accepts `$share/...` as a literal filter
/// that never matches, so a SUBACK proves nothing there, and a probe message would cost a round
/// trip with a guessed timeout at every connect. Once `$share` is found missing the choice is
/// kept for the life of the process: the nodes of one cluster are alike, and switching back
/// and forth would only open windows in which a command reaches no instance.
public struct CommandSubscription: Sendable {
    public enum Action: Sendable, Equatable {
        case subscribe(String)
        case unsubscribe(String)
    }

    /// `<base>/+/cmd`.
    public let plainFilter: String
    /// `$share/<group>/<base>/+/cmd`, nil when `--share-group` is empty.
    public let sharedFilter: String?
    /// Why commands are broadcast, once that is decided.
    public private(set) var broadcastReason: String?
    /// The mode of the current connection; nil before the first.
    public private(set) var mode: RoutingMode?

    public init(base: String, shareGroup: String) {
        plainFilter = "\(base)/+/cmd"
        sharedFilter = shareGroup.isEmpty ? nil : "$share/\(shareGroup)/\(plainFilter)"
        broadcastReason = shareGroup.isEmpty ? "--share-group is empty" : nil
    }

    /// The broker accepted a connection. With `.subscribe(sharedFilter)` among the actions,
    /// the caller reports a refusal of it through `sharedRefused`.
    public mutating func connected(mqtt5: Bool, sharedSubscriptionAvailable: Bool) -> [Action] {
        if broadcastReason == nil, !mqtt5 {
            broadcastReason = "no $share: MQTT 3.1.1"
        } else if broadcastReason == nil, !sharedSubscriptionAvailable {
            broadcastReason = "no $share: the broker's CONNACK says Shared Subscription Available = 0"
        }
        guard broadcastReason == nil, let sharedFilter else { return broadcast() }
        mode = .shared
        return [.subscribe(sharedFilter)]
    }

    /// The broker refused the shared subscription (`reason` says how): from now on commands
    /// are broadcast. The shared filter is dropped so that a reconnect does not send it again.
    public mutating func sharedRefused(_ reason: String) -> [Action] {
        broadcastReason = "no $share: \(reason)"
        return broadcast()
    }

    /// The line logged at every connection.
    public var description: String {
        switch mode {
        case .shared?: "command routing: shared (\(sharedFilter ?? plainFilter))"
        case .broadcast?: "command routing: broadcast (\(broadcastReason ?? ""))"
        case nil: "command routing: not decided (no broker connection yet)"
        }
    }

    private mutating func broadcast() -> [Action] {
        defer { mode = .broadcast }
        let leaving: [Action] = mode == .shared ? sharedFilter.map { [.unsubscribe($0)] } ?? [] : []
        return leaving + [.subscribe(plainFilter)]
    }
}
