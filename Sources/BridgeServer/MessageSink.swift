import BridgeCore

/// Where the listeners hand the messages they produce, in order. The bridge's sink is the
/// `PublishPipeline` (spool, then MQTT); tests use a collector.
public protocol MessageSink: Sendable {
    func submit(_ message: OutboundMessage)
}
