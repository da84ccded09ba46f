/// The command types of the contract (`<base>/<id>/cmd`, field `type`). Names follow
/// Traccar where it has one, so controllers written for Traccar read naturally.
public enum CommandType: String, Sendable, CaseIterable, Hashable {
    case custom
    case positionSingle, engineStop, engineResume, rebootDevice, alarmArm, alarmDisarm
    case positionPeriodic, setTimezone, sosNumber, setApn, setServer

    /// The parameters this type accepts besides `device_password` (which every type accepts),
    /// with whether each is required.
    var parameters: [(name: String, required: Bool)] {
        switch self {
        case .custom: [("data", true)]
        case .positionSingle, .engineStop, .engineResume, .rebootDevice, .alarmArm, .alarmDisarm: []
        case .positionPeriodic: [("interval_s", true)]
        case .setTimezone: [("offset", true)]
        case .sosNumber: [("index", true), ("phone", true)]
        case .setApn: [("apn", true), ("user", false), ("password", false)]
        case .setServer: [("host", true), ("port", true)]
        }
    }
}
