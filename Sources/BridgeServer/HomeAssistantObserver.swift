import BridgeCore
import Synchronization
import TrackerCodec

/// `--ha-discovery`: publishes a device's Home Assistant discovery document when the device
/// first comes online in this process, and every known device's document again when Home
/// Assistant announces `online` on `<ha-prefix>/status` (it restarted and needs them).
///
/// Documents are retained, so one publication per device and process is enough while Home
/// Assistant runs; after a Home Assistant restart its birth message triggers the rest.
final class HomeAssistantObserver: DeviceTrafficObserver {
    private let discovery: HomeAssistantDiscovery
    private let names: [String: String]
    /// Devices seen online in this process, in the order they came, with their protocol
    /// (the document names the device model by it).
    private let known = Mutex<(protocols: [String: ProtocolName], order: [String])>(([:], []))

    private let forgetTopic: String

    /// `names` maps a device id to its display name (`devices.<id>.name`); others use the id.
    /// A device announced on `forgetTopic` (its document was deleted) is published again when
    /// it next comes online.
    init(discovery: HomeAssistantDiscovery, names: [String: String], forgetTopic: String) {
        self.discovery = discovery
        self.names = names
        self.forgetTopic = forgetTopic
    }

    var subscriptions: [String] { [discovery.statusTopic, forgetTopic] }

    var interests: DeviceTrafficEvent.Kinds { [.online, .brokerMessage] }

    func observe(_ event: DeviceTrafficEvent, hub: DeviceHub) -> [OutboundMessage] {
        switch event {
        case .online(let deviceID, _, let protocolName, _):
            let isNew = known.withLock { known in
                guard known.protocols[deviceID] != protocolName else { return false }
                if known.protocols.updateValue(protocolName, forKey: deviceID) == nil { known.order.append(deviceID) }
                return true
            }
            return isNew ? [document(deviceID, protocolName)] : []
        case .brokerMessage(let message, _) where message.topic == forgetTopic:
            let deviceID = String(decoding: message.payload, as: UTF8.self)
            known.withLock { known in
                if known.protocols.removeValue(forKey: deviceID) != nil { known.order.removeAll { $0 == deviceID } }
            }
            return []
        case .brokerMessage(let message, _) where message.topic == discovery.statusTopic:
            guard message.payload.elementsEqual("online".utf8) else { return [] }
            return known.withLock { known in known.order.map { ($0, known.protocols[$0] ?? .carscop) } }.map(document)
        default:
            return []
        }
    }

    private func document(_ deviceID: String, _ protocolName: ProtocolName) -> OutboundMessage {
        discovery.document(deviceID: deviceID, name: names[deviceID] ?? deviceID, protocolName: protocolName)
    }
}
