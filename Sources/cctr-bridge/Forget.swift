import ArgumentParser
import BridgeServer
import TrackerCodec
import Logging

/// `cctr-bridge forget ID`: clears every retained topic of a retired device (position,
/// status, availability, OwnTracks location, Home Assistant discovery). It takes `serve`'s
/// options, so the same config file reaches the same broker with the same topic base,
/// Home Assistant prefix and OwnTracks base; only those options matter here.
struct Forget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Clear every retained topic of a device (it also leaves Home Assistant).",
        usage: "cctr-bridge forget <id> [<options>]",
        discussion: """
            Publishes an empty retained message on the device's position, status and \
            availability topics, its OwnTracks topic (with --owntracks-base) and its Home \
            Assistant discovery topic (with --ha-discovery), and waits for the broker to \
            acknowledge each. Pass the options serve runs with (e.g. the same --config). \
            Exit 0 when everything was cleared, 1 when the broker could not be reached or \
            refused, 2 for a bad id or bad options. <id> is the device id (terminal id), \
            e.g. CC8011400042499.

            """ + ServeOptions.optionsHelp
    )

    @OptionGroup(title: "Serve options (only the MQTT connection and topic options are used)")
    var options: ServeOptions

    func run() async throws {
        let (options, words) = try self.options.resolved(arguments: ["id"])
        let id = words[0]
        guard DeviceID.isValid(id) else {
            FileHandleOutput.standardError(
                "cctr-bridge: invalid device id '\(id)': use 1-64 characters of A-Z a-z 0-9 _ - (not 'bridge')\n")
            throw ExitCode(2)
        }
        BridgeLogging.bootstrap(format: options.logFormat, level: options.logLevel)
        var logger = Logger(label: "cctr-bridge")
        logger.logLevel = options.logLevel
        do {
            for topic in try await DeviceForgetter.forget(deviceID: id, options: options, logger: logger) {
                print("cleared \(topic)")
            }
        } catch {
            FileHandleOutput.standardError("cctr-bridge: forget \(id): \(error)\n")
            throw ExitCode(1)
        }
    }
}
