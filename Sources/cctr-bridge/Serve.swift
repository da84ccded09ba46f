import ArgumentParser
import BridgeServer

/// `cctr-bridge serve` (the default subcommand): resolves every option of the contract's
/// table (flag, environment, config file, default) and runs the bridge.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the bridge: tracker listeners to MQTT.",
        usage: "cctr-bridge [serve] [--config <path>] [--print-config] [<options>]",
        discussion: """
            Every option is also an environment variable (CCTR_ + upper case, underscores) and a \
            config-file key (dashes become dots). Precedence: flag, environment, config file, \
            default. The MQTT password comes from CCTR_MQTT_PASSWORD or --mqtt-password-file. \
            See docs/configuration.md.

            """ + ServeOptions.optionsHelp
    )

    @Flag(name: .customLong("print-config"), help: "Print the resolved options as a JSON config file (no password) and exit.")
    var printConfig = false

    @OptionGroup var options: ServeOptions

    func run() async throws {
        let options = try self.options.resolved().options
        if printConfig {
            print(options.configFileJSON())
            return
        }
        try await BridgeApp.run(options: options)
    }
}
