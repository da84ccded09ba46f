import BridgeCore
import TrackerCodec
import Logging
import Mosquitto

/// `cctr-bridge forget ID`: deletes every retained topic the bridge keeps for a device by
/// publishing an empty retained message (QoS 1) on each, which brokers treat as deletion
/// and Home Assistant as the removal of the discovered device.
///
/// It connects with the same options as `serve` (URL, credentials, TLS, topic base, Home
/// Assistant prefix, OwnTracks base) under its own client id, so a running bridge keeps its
/// connection, and with a clean session that the broker drops when it leaves.
public enum DeviceForgetter {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The retained topics of `deviceID` under these options: `position`, `status`,
    /// `availability`, the OwnTracks location when `--owntracks-base` is set, the Home
    /// Assistant discovery document with `--ha-discovery`.
    public static func retainedTopics(deviceID: String, options: BridgeOptions) throws -> [String] {
        let topics = try TopicLayout(base: options.topicBase, instance: options.instance)
        var list = [topics.device(deviceID, .position), topics.device(deviceID, .status), topics.device(deviceID, .availability)]
        if let base = options.owntracksBase {
            list.append(OwnTracksLocation.topic(base: base, deviceID: deviceID))
        }
        if options.haDiscovery {
            list.append(BridgeFeatures.homeAssistantDiscovery(options: options, topics: topics).configTopic(deviceID: deviceID))
        }
        return list
    }

    /// Clears the device's retained topics and returns them, once the broker acknowledged
    /// every deletion. Fails for an invalid id, a broker not reached within `connectTimeout`,
    /// or a deletion the broker refused.
    public static func forget(
        deviceID: String, options: BridgeOptions, logger: Logger, connectTimeout: Duration = .seconds(10)
    ) async throws -> [String] {
        guard DeviceID.isValid(deviceID) else {
            throw Failure(description: "invalid device id '\(deviceID)': use 1-64 characters of A-Z a-z 0-9 _ - (not 'bridge')")
        }
        let topics = try retainedTopics(deviceID: deviceID, options: options)
        var configuration = options.mqttConfiguration(clientID: "cctr-bridge-\(options.instance)-forget")
        configuration.cleanStart = true
        configuration.sessionExpiry = 0
        let client = try MosquittoClient(configuration: configuration, logger: logger)
        // Ended by `disconnect()` on every path below.
        Task { try await client.run() }
        guard await connected(client, within: connectTimeout) else {
            let reason = client.lastFailure.map { ": \($0.message)" } ?? ""
            await client.disconnect()
            let brokers = options.mqttURL.map(\.description).joined(separator: ", ")
            throw Failure(description: "broker \(brokers) not reached within \(connectTimeout)\(reason)")
        }
        do {
            for topic in topics {
                try await client.publish(topic: topic, payload: [], qos: 1, retain: true)
            }
            let layout = try TopicLayout(base: options.topicBase, instance: options.instance)
            try await client.publish(topic: layout.forget, payload: Array(deviceID.utf8), qos: 1, retain: false)
        } catch {
            await client.disconnect()
            throw Failure(description: "clearing retained topics failed: \(error)")
        }
        await client.disconnect()
        return topics
    }

    private static func connected(_ client: MosquittoClient, within timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await event in client.events {
                    if case .connected = event { return true }
                }
                return false
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
