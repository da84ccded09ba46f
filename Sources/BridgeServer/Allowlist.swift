import TrackerCodec
import Foundation

/// The optional device allowlist (`--allowlist FILE`): one device id per line; blank lines
/// and lines starting with `#` are ignored. An invalid id stops start-up with its line number.
enum Allowlist {
    static func load(path: String?) throws -> Set<String>? {
        guard let path else { return nil }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw StartupError("--allowlist: cannot read \(path): \(error.localizedDescription)")
        }
        var ids = Set<String>()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let id = line.trimmingCharacters(in: .whitespaces)
            if id.isEmpty || id.hasPrefix("#") { continue }
            guard DeviceID.isValid(id) else {
                throw StartupError("--allowlist \(path):\(index + 1): '\(id)' is not a valid device id")
            }
            ids.insert(id)
        }
        return ids
    }
}
