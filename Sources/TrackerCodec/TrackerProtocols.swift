/// Every protocol the shared port speaks, in the order their framers are asked at a frame
/// start. Adding a protocol is adding its folder and one line here.
public enum TrackerProtocols {
    public static let all: [any TrackerProtocol.Type] = [
        Carscop.self,
        H02.self,
    ]

    /// The registered protocol called `name`.
    public static func named(_ name: ProtocolName) -> (any TrackerProtocol.Type)? {
        all.first { $0.name == name }
    }
}
