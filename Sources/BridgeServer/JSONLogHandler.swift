import BridgeCore
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// One JSON object per log line on stderr (`--log-format json`):
/// `{"at":"…","level":"info","label":"cctr-bridge","message":"…", <metadata>…}`.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("at")
        w.timestamp(milliseconds: WallClock.milliseconds())
        w.key("level")
        w.string(event.level.rawValue)
        w.key("label")
        w.string(label)
        w.key("message")
        w.string(event.message.description)
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            w.key(dynamic: key)
            w.string(value.description)
        }
        w.endObject()
        var line = w.bytes
        line.append(0x0A)
        _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
