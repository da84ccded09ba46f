import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `cctr-bridge`: `serve` (the default) runs the bridge; `decode` turns a capture into the
/// messages `serve` would publish; `forget` clears a device's retained topics.
@main
struct CctrBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cctr-bridge",
        abstract: "Carscop CCTR-801 GPS trackers to MQTT.",
        subcommands: [Serve.self, Decode.self, Forget.self, ConfigReference.self],
        defaultSubcommand: Serve.self
    )

    /// The contract fixes exit code 2 for bad options (ArgumentParser's default is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandleOutput.standardError(fullMessage(for: error) + "\n")
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }
}
