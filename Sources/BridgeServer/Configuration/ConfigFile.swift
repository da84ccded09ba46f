import BridgeCore
import TrackerCodec
import Foundation
import Yams

/// The `--config` file, flattened: nested maps and dotted keys both become the option's
/// dotted key (`mqtt: {session: {expiry: 300}}` and `mqtt.session.expiry: 300` are the same),
/// and `devices.<id>.<setting>` is split out per device. Every key is checked here, so a typo
/// stops the start-up instead of being ignored.
///
/// Read with Yams and Foundation rather than swift-configuration: its readers look keys up
/// one by one and cannot list a file's keys, which rejecting unknown keys and reading the
/// open-ended `devices.<id>` section both need.
struct ConfigFile: Sendable, Equatable {
    let path: String
    /// Option values by config key; `null` values are left out (they mean "not set").
    var options: [String: Value]
    /// Device settings by device id, then by setting key (`tz`, `speed_unit`, ...).
    var devices: [String: [String: String]]

    /// A leaf of the file.
    enum Value: Sendable, Equatable {
        case scalar(String)
        case list([String])
    }

    /// The parsed document before flattening.
    private indirect enum Tree: Decodable {
        case null
        case scalar(String)
        case list([Tree])
        case map([(String, Tree)])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let value = try? container.decode(Bool.self) {
                self = .scalar(String(value))
            } else if let value = try? container.decode(Int.self) {
                self = .scalar(String(value))
            } else if let value = try? container.decode(Double.self) {
                self = .scalar(String(value))
            } else if let value = try? container.decode(String.self) {
                self = .scalar(value)
            } else if let value = try? container.decode([Tree].self) {
                self = .list(value)
            } else {
                self = .map(try container.decode([String: Tree].self).sorted { $0.key < $1.key })
            }
        }
    }

    /// Reads and checks the file; JSON for `.json`, YAML for `.yaml` / `.yml`.
    static func load(path: String) throws(ConfigurationError) -> ConfigFile {
        func failure(_ reason: String) -> ConfigurationError {
            ConfigurationError(option: nil, origin: .file(path: path, key: nil), reason: reason)
        }
        let lowered = path.lowercased()
        let isJSON = lowered.hasSuffix(".json")
        guard isJSON || lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml") else {
            throw failure("the file name must end in .yaml, .yml or .json")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw failure("cannot read the file")
        }
        let tree: Tree
        do {
            if isJSON {
                // Foundation's decoder accepts trailing commas and says nothing of where the
                // text breaks: check it strictly first, and name the line and column.
                let bytes = [UInt8](data)
                if let problem = JSONSyntax.firstProblem(in: bytes) {
                    let before = bytes[..<min(problem.offset, bytes.count)]
                    let line = before.filter { $0 == 0x0A }.count + 1
                    let column = before.count - (before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
                    throw failure("line \(line), column \(column): \(problem.what)")
                }
                tree = try JSONDecoder().decode(Tree.self, from: data)
            } else {
                guard let text = String(data: data, encoding: .utf8) else { throw failure("the file is not UTF-8") }
                tree = try Yams.compose(yaml: text).map { node throws(ConfigurationError) in try Self.tree(node, path: path) } ?? .null
            }
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw failure("cannot parse the file: \(error)")
        }
        var file = ConfigFile(path: path, options: [:], devices: [:])
        switch tree {
        case .null: break
        case .map(let entries): try file.add(entries, prefix: "")
        case .scalar, .list: throw failure("the top level must be a map of option keys")
        }
        return file
    }

    private static func tree(_ node: Node, path: String) throws(ConfigurationError) -> Tree {
        func failure(_ reason: String) -> ConfigurationError {
            ConfigurationError(option: nil, origin: .file(path: path, key: nil), reason: reason)
        }
        switch node {
        case .scalar(let scalar):
            return node.null != nil ? .null : .scalar(scalar.string)
        case .sequence(let sequence):
            var items: [Tree] = []
            for item in sequence { items.append(try tree(item, path: path)) }
            return .list(items)
        case .mapping(let mapping):
            var entries: [(String, Tree)] = []
            for (key, value) in mapping {
                guard case .scalar(let scalar) = key else {
                    throw failure("a YAML map key is not a plain string")
                }
                entries.append((scalar.string, try tree(value, path: path)))
            }
            return .map(entries)
        case .alias:
            throw failure("YAML aliases are not supported")
        }
    }

    private mutating func add(_ entries: [(String, Tree)], prefix: String) throws(ConfigurationError) {
        for (name, value) in entries {
            let key = prefix.isEmpty ? name : prefix + "." + name
            switch value {
            case .map(let nested): try add(nested, prefix: key)
            case .null: try check(key)
            case .scalar(let text): try set(key, .scalar(text))
            case .list(let items):
                var texts: [String] = []
                for item in items {
                    guard case .scalar(let text) = item else {
                        throw failure(key, "a list may hold only plain values")
                    }
                    texts.append(text)
                }
                try set(key, .list(texts))
            }
        }
    }

    /// Checks that `key` names an option or a device setting, without setting anything.
    private func check(_ key: String) throws(ConfigurationError) {
        if key == "devices" { return }
        if key.hasPrefix("devices.") {
            _ = try deviceKey(key)
        } else if !OptionDescriptor.all.contains(where: { $0.configKey == key }) {
            throw failure(key, "unknown key: not an option (see docs/configuration.md for the keys)")
        }
    }

    private mutating func set(_ key: String, _ value: Value) throws(ConfigurationError) {
        try check(key)
        if key.hasPrefix("devices.") {
            let (id, setting) = try deviceKey(key)
            guard case .scalar(let text) = value else { throw failure(key, "a device setting takes one value") }
            guard devices[id]?[setting] == nil else { throw failure(key, "the key is given twice") }
            devices[id, default: [:]][setting] = text
        } else {
            guard options[key] == nil else { throw failure(key, "the key is given twice") }
            options[key] = value
        }
    }

    /// Splits `devices.<id>.<setting>` and checks both parts.
    private func deviceKey(_ key: String) throws(ConfigurationError) -> (id: String, setting: String) {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw failure(key, "expected devices.<id>.<setting> with a setting among \(DeviceOverride.keys.joined(separator: ", "))")
        }
        let id = String(parts[1])
        guard DeviceID.isValid(id) else {
            throw failure(key, "'\(id)' is not a device id: 1-64 characters of A-Z a-z 0-9 _ -, not 'bridge'")
        }
        let setting = String(parts[2])
        guard DeviceOverride.keys.contains(setting) else {
            throw failure(key, "unknown device setting '\(setting)': use \(DeviceOverride.keys.joined(separator: ", "))")
        }
        return (id, setting)
    }

    private func failure(_ key: String, _ reason: String) -> ConfigurationError {
        let option = key.hasPrefix("devices.") ? key : OptionDescriptor.all.first { $0.configKey == key }?.name
        return ConfigurationError(option: option, origin: .file(path: path, key: key), reason: reason)
    }
}
