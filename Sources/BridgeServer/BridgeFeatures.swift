import BridgeCore
import Logging

/// Builds the optional features that ride on device traffic, from the options. Each is a
/// `DeviceTrafficObserver`; the hub calls them in this order.
enum BridgeFeatures {
    static func observers(options: BridgeOptions, topics: TopicLayout, logger: Logger) throws -> [any DeviceTrafficObserver] {
        []
    }
}
