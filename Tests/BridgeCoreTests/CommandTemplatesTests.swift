import BridgeCore
import TrackerCodec
import Foundation
import TestSupport
import Testing

/// Shared fixtures for the command tests: a template file with most types enabled.
enum CommandFixtures {
    static let device = "CC8011400042499"
    static let t0: Int64 = 1_795_550_102_314  // 2026-11-24T...Z
    static let yaml = #"""
        version: 1
        commands:
          custom: [{name: raw, enabled: true, template: "{data}"}]
          positionSingle: [{name: tk103, enabled: true, template: "AP00", framing: carscop, reply: {word: UB04}}]
          positionPeriodic:
            - {name: tk103, enabled: true, template: "AR00{interval_hex}0000", framing: carscop, reply: {word: BS08, body_prefix: "{interval_hex}"}}
          engineStop: [{name: tk103, enabled: true, template: "AV01", framing: carscop, reply: {word: BV01}, max_in_flight: 2}]
          engineResume: [{name: tk103, enabled: false, template: "AV00", framing: carscop}]
          rebootDevice: [{name: sms, enabled: true, template: "RESET*{password}"}]
          setTimezone: [{name: sms, enabled: true, template: "TIMEZONE*{password}*{offset}*{header}"}]
          setApn: [{name: sms, enabled: true, template: "APN*{password}*{apn}{#user}\nUSERNAME*{password}*{user}*{apn_password}{/user}"}]
          setServer: [{name: sms, enabled: true, template: "IP*{password}*{host},{port}"}]
          sosNumber: [{name: sms, enabled: true, template: "ADDPHONE*{password}*{index}*{phone}"}]
        acks:
          login: {enabled: true, template: "AP05{device_id}", framing: carscop}
        """#
    static let templates = try! CommandTemplates(yaml: yaml)
    static let policy = CommandPolicy(devicePasswords: ["PASSWORDED": "654321"])

    static func parse(_ json: String, device: String = device, templates: CommandTemplates = templates) -> CommandParseResult {
        var counter = 0
        return CommandRequest.parse(Array(json.utf8), deviceID: device, templates: templates, policy: policy) {
            counter += 1
            return "b-\(counter)"
        }
    }

    static func request(_ json: String, device: String = device) throws -> CommandRequest {
        switch parse(json, device: device) {
        case .accepted(let r): return r
        case .rejected(let r): throw r
        }
    }

    static func rejection(_ json: String, templates: CommandTemplates = templates) -> CommandRejection? {
        if case .rejected(let r) = parse(json, templates: templates) { return r }
        return nil
    }
}

@Suite struct CommandTemplatesTests {
    @Test func defaultFileIsIdenticalToTheEmbeddedCopy() throws {
        let url = PublicFrame.packageRoot.appendingPathComponent("deploy/commands.default.yaml")
        let file = try String(contentsOf: url, encoding: .utf8)
        #expect(file == CommandTemplates.defaultYAML)
    }

    @Test func jsonExampleOfTheSchemaLoadsLikeTheDefaults() throws {
        let url = PublicFrame.packageRoot.appendingPathComponent("schemas/examples/commands.default.json")
        let json = try String(contentsOf: url, encoding: .utf8)
        #expect(try CommandTemplates(yaml: json) == CommandTemplates.builtIn)
    }

    @Test func onlyCustomIsEnabledByDefaultForCarscop() {
        let builtIn = CommandTemplates.builtIn
        for type in CommandType.allCases {
            #expect((builtIn.enabledTemplate(for: type, protocol: .carscop) != nil) == (type == .custom), "\(type)")
        }
        #expect(builtIn.enabledTemplate(for: .custom, protocol: .carscop)?.reply == nil)
        #expect(builtIn.variants[.rebootDevice]?.map(\.name) == ["sms", "tk103"])
        for kind in CommandTemplates.AckKind.allCases {
            #expect(builtIn.acknowledgement(kind, deviceID: "X1", now: CommandFixtures.t0, timeZoneOffsetSeconds: 0) == nil)
        }
    }

    @Test func everyDefaultVariantRendersWhenEnabled() throws {
        // Enabling each disabled variant in turn must give a loadable file whose frame renders.
        let source = CommandTemplates.defaultYAML
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        let disabled = lines.indices.filter { lines[$0].contains("enabled: false") && lines[$0].hasPrefix("      ") }
        #expect(disabled.count == 10)
        let h02 = CommandType.allCases.filter { CommandTemplates.builtIn.enabledTemplate(for: $0, protocol: .h02) != nil }
        for index in disabled {
            var edited = lines
            edited[index] = edited[index].replacingOccurrences(of: "false", with: "true")[...]
            let templates = try CommandTemplates(yaml: edited.joined(separator: "\n"))
            let enabled = CommandType.allCases.filter { templates.enabledTemplate(for: $0, protocol: .carscop) != nil }
            #expect(enabled.count == 2, "line \(index + 1)")
            #expect(CommandType.allCases.filter { templates.enabledTemplate(for: $0, protocol: .h02) != nil } == h02)
        }
    }

    @Test func ackRendersHeaderAndDeviceID() throws {
        let frame = try #require(CommandFixtures.templates.acknowledgement(
            .login, deviceID: "X1", now: 1_439_827_374_000, timeZoneOffsetSeconds: 8 * 3600))
        // 2015-08-17T16:02:54Z is 2015-08-18 00:02:54 at +08:00.
        #expect(String(decoding: frame, as: UTF8.self) == "*150818000254AP05X1^")
        #expect(CommandFixtures.templates.acknowledgement(.heartbeat, deviceID: "X1", now: 0, timeZoneOffsetSeconds: 0) == nil)
    }

    @Test(arguments: [
        ("version: 1\ncommands:\n  custom:\n    - template: \"{dta}\"\n", 4, "unknown placeholder {dta}"),
        ("version: 1\ncommands:\n  selfDestruct:\n    - template: \"X\"\n", 3, "unknown command type 'selfDestruct'"),
        ("version: 1\ncommands:\n  custom:\n    - template: \"{data}\"\n      framing: tk103\n", 5, "framing must be raw, carscop, h02"),
        ("version: 1\ncommands:\n  rebootDevice:\n    - template: \"AT00{interval_s}\"\n", 4, "placeholder {interval_s} has no value for a rebootDevice command"),
        ("version: 1\ncommands:\n  custom:\n    - template: \"{data}\"\n      colour: red\n", 5, "unknown key 'colour'"),
        ("version: 1\ncommands:\n  custom:\n    - template: \"{data\"\n", 4, "a '{' without its '}'"),
        ("version: 1\ncommands:\n  custom:\n    - template: \"A^{data}\"\n      framing: carscop\n", 4, "cannot contain '^'"),
        ("version: 1\ncommands:\n  custom:\n    - {template: \"{data}\", enabled: true}\n    - {template: \"x{data}\", enabled: true}\n", 5, "both enabled"),
        ("version: 1\ncommands:\n  custom:\n    - template: \"{data}\"\n      max_in_flight: 0\n", 5, "max_in_flight must be an integer from 1 to 16"),
        ("version: 1\ncommands:\n  positionSingle:\n    - template: \"AP00\"\n      reply: {}\n", 5, "reply needs word, body_prefix or body_contains"),
        ("version: 1\ncommands:\n  positionSingle:\n    - template: \"AP00\"\n      reply: {word: UB04X1234}\n", 5, "reply word must be 1-8 printable characters"),
        ("version: 1\ncommands:\n  positionSingle:\n    - template: \"AP00\"\n      reply: {word: UB04, body_prefix: \"{header}\"}\n", 5, "cannot use {header}"),
        ("version: 1\ncommands:\n  custom:\n    - template: \"{#data}{/data}\"\n", 4, "not an optional parameter"),
        ("version: 1\ncommands:\n  custom:\n    - template: \"caf\u{E9}\"\n", 4, "not printable ASCII"),
        ("version: 2\ncommands: {}\n", 1, "version must be 1"),
        ("version: 1\ncommands:\n  custom: [\n", 4, "syntax error: "),
        ("version: 1\ncommands:\n  custom: []\n  custom: []\n", 3, "duplicate key custom"),
        ("version: 1\nacks:\n  login: {template: \"AP05{password}\"}\ncommands: {}\n", 3, "placeholder {password} has no value for an acknowledgement"),
        ("{\n  \"version\": 1,\n  \"commands\": {\n    \"custom\": [{\"template\": \"{data}\" \"enabled\": true}]\n  }\n}\n", 4, "syntax error: "),
    ])
    func badFilesNameTheLineAndTheProblem(_ yaml: String, _ line: Int, _ message: String) {
        do throws(CommandTemplates.LoadError) {
            _ = try CommandTemplates(yaml: yaml)
            Issue.record("loaded a bad file")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.description.hasPrefix("line \(line): "))
            #expect(error.message.contains(message), "\(error)")
        }
    }
}
