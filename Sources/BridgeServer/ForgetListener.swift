import BridgeCore

/// Keeps a running bridge consistent with `cctr-bridge forget`: when another process
/// announces on `<base>/bridge/forget` that it cleared a device's retained topics, the
/// bridge forgets the device's last retained fix time, so the device's next valid fix is
/// retained again even if it is older than the deleted one.
final class ForgetListener: DeviceTrafficObserver {
    private let topic: String
    private let retained: RetainedPositions

    init(topic: String, retained: RetainedPositions) {
        self.topic = topic
        self.retained = retained
    }

    var subscriptions: [String] { [topic] }

    var interests: DeviceTrafficEvent.Kinds { .brokerMessage }

    func observe(_ event: DeviceTrafficEvent, hub: DeviceHub) -> [OutboundMessage] {
        if case .brokerMessage(let message, _) = event, message.topic == topic {
            retained.forget(deviceID: String(decoding: message.payload, as: UTF8.self))
        }
        return []
    }
}
