import BridgeServer
import Testing

/// The command line of `serve` and `forget`, read against the option table.
@Suite struct CommandLineOptionsTests {
    @Test func valuesFlagsListsAndPositionals() throws {
        let parsed = try CommandLineOptions.parse([
            "CC8011400042499", "--listen", "tcp://0.0.0.0:1", "--listen=udp://[::]:2", "--device-tz", "-03:30",
            "--publish-raw", "--no-ha-discovery", "--instance", "a", "--instance", "b", "--", "--not-an-option",
        ])
        #expect(parsed.arguments == [
            "listen": ["tcp://0.0.0.0:1", "udp://[::]:2"], "device-tz": ["-03:30"], "publish-raw": ["true"],
            "ha-discovery": ["false"], "instance": ["b"],
        ])
        #expect(parsed.positionals == ["CC8011400042499", "--not-an-option"])
    }

    @Test func everyOptionOfTheTableIsAFlag() throws {
        for option in OptionDescriptor.all {
            let words = if case .flag = option.kind { [option.flag] } else { [option.flag, "x"] }
            #expect(try CommandLineOptions.parse(words).arguments[option.name] != nil, "\(option.flag)")
        }
    }

    @Test(arguments: [["--no-such-flag"], ["--instance"], ["--publish-raw=true"], ["--no-instance"], ["-x"]])
    func badWordsNameTheOption(_ words: [String]) {
        #expect(throws: ConfigurationError.self) { try CommandLineOptions.parse(words) }
    }
}
