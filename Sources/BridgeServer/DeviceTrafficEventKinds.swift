extension DeviceTrafficEvent {
    /// Sets of event cases: what an observer acts on (`DeviceTrafficObserver.interests`).
    public struct Kinds: OptionSet, Sendable {
        public let rawValue: UInt8

        public init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        public static let online = Kinds(rawValue: 1 << 0)
        public static let offline = Kinds(rawValue: 1 << 1)
        public static let frame = Kinds(rawValue: 1 << 2)
        public static let published = Kinds(rawValue: 1 << 3)
        public static let brokerConnected = Kinds(rawValue: 1 << 4)
        public static let brokerMessage = Kinds(rawValue: 1 << 5)
        public static let tick = Kinds(rawValue: 1 << 6)
        public static let claimedElsewhere = Kinds(rawValue: 1 << 7)
        public static let all: Kinds = [.online, .offline, .frame, .published, .brokerConnected, .brokerMessage, .tick, .claimedElsewhere]
    }

    /// The case of this event, as one of `Kinds`.
    public var kind: Kinds {
        switch self {
        case .online: .online
        case .offline: .offline
        case .frame: .frame
        case .published: .published
        case .brokerConnected: .brokerConnected
        case .brokerMessage: .brokerMessage
        case .tick: .tick
        case .claimedElsewhere: .claimedElsewhere
        }
    }
}
