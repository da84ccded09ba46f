import BridgeCore
import Logging
import Synchronization
@testable import BridgeServer

/// A `DeviceHub` whose sink keeps every submitted message, for tests of the shell without a
/// broker or sockets.
final class HubHarness: Sendable {
    final class Sink: MessageSink {
        let messages = Mutex<[OutboundMessage]>([])
        let congested = Atomic<Bool>(false)

        func submit(_ message: OutboundMessage) {
            messages.withLock { $0.append(message) }
        }

        var isCongested: Bool { congested.load(ordering: .relaxed) }
    }

    let sink = Sink()
    let metrics = BridgeMetrics()
    let hub: DeviceHub
    let topics: TopicLayout

    init(deadLettersPerIPPerSecond: Int = 5, deadLettersPerSecond: Int = 50) throws {
        topics = try TopicLayout()
        hub = DeviceHub(
            topics: topics, statusIntervalMilliseconds: 60_000, sink: sink, metrics: metrics,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            deadLettersPerIPPerSecond: deadLettersPerIPPerSecond, deadLettersPerSecond: deadLettersPerSecond
        )
    }

    var messages: [OutboundMessage] { sink.messages.withLock { $0 } }

    func topics(endingWith leaf: String) -> [String] {
        messages.map(\.topic).filter { $0.hasSuffix(leaf) }
    }

    /// The value of one series in the Prometheus exposition, e.g.
    /// `cctr_deadletters_total{reason="rate limited"}`.
    func metric(_ series: String) -> Double? {
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    var pipelineContext: ConnectionPipeline.Context {
        ConnectionPipeline.Context(normalizer: Normalizer(topics: topics))
    }
}
