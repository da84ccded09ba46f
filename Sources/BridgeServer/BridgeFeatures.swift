import BridgeCore
import Logging

/// Builds the optional features that ride on device traffic, from the options. Each is a
/// `DeviceTrafficObserver`; the hub calls them in this order.
enum BridgeFeatures {
    static func observers(options: BridgeOptions, topics: TopicLayout, logger: Logger) throws -> [any DeviceTrafficObserver] {
        var observers: [any DeviceTrafficObserver] = []
        if options.haDiscovery {
            observers.append(HomeAssistantObserver(
                discovery: homeAssistantDiscovery(options: options, topics: topics),
                names: options.devices.compactMapValues(\.name)
            ))
        }
        if let base = options.owntracksBase {
            observers.append(OwnTracksObserver(base: base))
        }
        return observers
    }

    /// The discovery document builder for these options (also used by `forget`).
    static func homeAssistantDiscovery(options: BridgeOptions, topics: TopicLayout) -> HomeAssistantDiscovery {
        HomeAssistantDiscovery(
            prefix: options.haPrefix, topics: topics,
            origin: .init(softwareVersion: BridgeVersion.current)
        )
    }
}
