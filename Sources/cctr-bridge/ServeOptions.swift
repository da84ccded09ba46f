import ArgumentParser
import BridgeServer
import Foundation

/// Every option of the option table, shared by `serve` and `forget` (which needs the same
/// broker and topics). ArgumentParser declares each option as a stored property, which
/// would spell every option twice more here; so it only handles `--config` and `--help`,
/// collects the words it does not know, and `CommandLineOptions` reads those against the
/// table. The options' help is `optionsHelp`, shown in the commands' discussion.
struct ServeOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp("JSON or YAML config file (.json, .yaml, .yml). Default: none. Env: CCTR_CONFIG.", valueName: "path"))
    var config: String?

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var words: [String] = []

    /// The options from flags, environment and config file, and the words that are not
    /// options, one for each of `arguments` (their names, for the error when one is missing);
    /// exit 2 when the options are invalid or the words do not match.
    func resolved(arguments names: [String] = []) throws -> (options: BridgeOptions, arguments: [String]) {
        let environment = ProcessInfo.processInfo.environment
        for variable in BridgeOptions.unknownEnvironmentVariables(in: environment) {
            FileHandleOutput.standardError("cctr-bridge: warning: \(variable) is not an option; ignored\n")
        }
        do {
            let given = try CommandLineOptions.parse(words)
            guard given.positionals.count == names.count else {
                let reason = given.positionals.count > names.count
                    ? "unexpected argument '\(given.positionals[names.count])'"
                    : "missing <\(names[given.positionals.count])>"
                FileHandleOutput.standardError("cctr-bridge: \(reason)\n")
                throw ExitCode(2)
            }
            let options = try BridgeOptions.load(arguments: given.arguments, environment: environment, configFile: config)
            return (options, given.positionals)
        } catch let error as ConfigurationError {
            FileHandleOutput.standardError("cctr-bridge: \(error)\n")
            throw ExitCode(2)
        }
    }

    /// The OPTIONS part of `--help`, from the option table: each flag with its value name,
    /// then its meaning, allowed values, default and environment variable.
    static let optionsHelp: String = {
        var lines = ["", "OPTIONS (each also an environment variable and a config key; see docs/configuration.md):"]
        for option in OptionDescriptor.all {
            let usage = if case .flag = option.kind {
                "--\(option.name), --no-\(option.name)"
            } else {
                "\(option.flag) <\(valueName(option))>"
            }
            lines.append("  " + usage)
            lines += wrapped(option.flagHelp, indent: "        ")
        }
        return lines.joined(separator: "\n")
    }()

    /// Lines of at most 79 columns: ArgumentParser rewraps only longer lines, and would lose
    /// the indent that sets the help apart from its flag.
    private static func wrapped(_ text: String, indent: String) -> [String] {
        var lines: [String] = []
        var line = indent
        for word in text.split(separator: " ") {
            if line.count > indent.count, line.count + 1 + word.count > 79 {
                lines.append(line)
                line = indent
            }
            line += (line.count > indent.count ? " " : "") + word
        }
        lines.append(line)
        return lines
    }

    private static func valueName(_ option: OptionDescriptor) -> String {
        switch option.kind {
        case .integer: "n"
        case .choice(let words): words.joined(separator: "|")
        case .list: "addr"
        case .flag, .text, .optionalText: option.name.hasSuffix("file") || option.name.hasSuffix("dir") ? "path" : "value"
        }
    }
}
