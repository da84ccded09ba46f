import BridgeCore
import TrackerCodec
import Mosquitto

/// Behaviour layered on device traffic (downlink commands, Home Assistant discovery,
/// OwnTracks, the status page) without the hub knowing each feature. The hub calls every observer, in order,
/// on the thread of the connection the event came from; what an observer returns is
/// published right after the event's own messages.
public protocol DeviceTrafficObserver: Sendable {
    /// MQTT topic filters the observer needs (subscribed at start, kept across reconnects).
    var subscriptions: [String] { get }

    /// The events the observer acts on; the hub sends it no others, and sends an event that
    /// no observer wants to nobody (every frame and every published message is an event, so
    /// an unwanted one would cost the device event loops a lock and a call per observer).
    var interests: DeviceTrafficEvent.Kinds { get }

    func observe(_ event: DeviceTrafficEvent, hub: DeviceHub) -> [OutboundMessage]
}

extension DeviceTrafficObserver {
    /// Every event, unless the observer names the ones it acts on.
    public var interests: DeviceTrafficEvent.Kinds { .all }
}

public enum DeviceTrafficEvent: Sendable {
    /// A device logged in (a new newest session), speaking `protocolName`.
    case online(deviceID: String, transport: Transport, protocolName: ProtocolName, now: Int64)
    /// The device's newest session ended.
    case offline(deviceID: String, now: Int64)
    /// A frame from a logged-in device.
    case frame(DeviceMessage, deviceID: String, now: Int64)
    /// A device message was handed to the publisher (positions, alarms, events...).
    case published(OutboundMessage)
    /// The broker connection is (again) up, and commands arrive in `routing` mode.
    case brokerConnected(routing: RoutingMode, now: Int64)
    /// A status shows the device's newer session on another instance, `by`.
    case claimedElsewhere(deviceID: String, by: String, now: Int64)
    /// A message arrived on one of the observers' subscriptions.
    case brokerMessage(IncomingMessage, now: Int64)
    /// Periodic, about once a second: for deadlines (command expiry).
    case tick(now: Int64)
}
