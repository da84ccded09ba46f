import ArgumentParser
import BridgeServer

/// `cctr-bridge config-reference` (hidden): prints docs/configuration.md, generated from the
/// option table so the committed reference cannot drift from the code.
struct ConfigReference: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-reference",
        abstract: "Print the configuration reference (docs/configuration.md) as Markdown.",
        shouldDisplay: false
    )

    func run() {
        print(ConfigurationReference.markdown(), terminator: "")
    }
}
