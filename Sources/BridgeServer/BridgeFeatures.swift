import BridgeCore
import Foundation
import Logging

/// Builds the optional features that ride on device traffic, from the options. Each is a
/// `DeviceTrafficObserver`; the hub calls them in this order.
enum BridgeFeatures {
    static func observers(
        options: BridgeOptions, topics: TopicLayout, retained: RetainedPositions, logger: Logger
    ) throws -> [any DeviceTrafficObserver] {
        var observers: [any DeviceTrafficObserver] = [
            CommandService(options: options, topics: topics, templates: try commandTemplates(options.commands), logger: logger),
            ForgetListener(topic: topics.forget, retained: retained),
        ]
        if options.haDiscovery {
            observers.append(HomeAssistantObserver(
                discovery: homeAssistantDiscovery(options: options, topics: topics),
                names: options.devices.compactMapValues(\.name), forgetTopic: topics.forget
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

    /// The built-in templates, or the operator's file (`--commands`); a bad file stops start-up
    /// with its line and problem.
    static func commandTemplates(_ path: String?) throws -> CommandTemplates {
        guard let path else { return .builtIn }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw StartupError("--commands: cannot read \(path): \(error.localizedDescription)")
        }
        do {
            return try CommandTemplates(yaml: text)
        } catch {
            throw StartupError("--commands \(path): \(error.description)")
        }
    }
}
