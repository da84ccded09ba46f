import BridgeCore

/// Where the listeners hand the messages they produce, in order. The bridge's sink is the
/// `PublishPipeline` (spool, then MQTT); tests use a collector.
public protocol MessageSink: Sendable {
    func submit(_ message: OutboundMessage)

    /// True while the sink cannot keep up (its queue is over its bound, e.g. a full spool with
    /// `--spool-full block`): TCP listeners pause reading, so devices wait instead of the
    /// bridge buffering without bound.
    var isCongested: Bool { get }
}

extension MessageSink {
    public var isCongested: Bool { false }
}
