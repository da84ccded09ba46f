import BridgeCore
import TrackerCodec
import CoreMetrics
import Prometheus

/// The contract's Prometheus metrics, created once per bridge from its own registry (no
/// global `MetricsSystem` bootstrap, so tests can run several bridges in one process).
///
/// Label values come from closed sets (the registered protocols, the message types each
/// decoder knows plus `unknown`, the
/// contract's reasons and statuses): a device cannot grow the label space by sending
/// invented command words.
public final class BridgeMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    private let connections: [Transport: CoreMetrics.Gauge]
    private let frames: [ProtocolName: [String: CoreMetrics.Counter]]
    private let framesUnknown: [ProtocolName: CoreMetrics.Counter]
    private let decodeErrors: [RejectReason: CoreMetrics.Counter]
    private let deadLetters: [RejectReason: CoreMetrics.Counter]
    public let deadLettersRateLimited: CoreMetrics.Counter
    public let publishSeconds: CoreMetrics.Timer
    public let mqttConnected: CoreMetrics.Gauge
    public let spoolBytes: CoreMetrics.Gauge
    /// `cctr_spool_memory_bytes`: the part of `cctr_spool_bytes` held in memory only, which a
    /// crash loses (all of it without `--spool-dir`; with one, what the disk has not taken
    /// yet). `cctr_spool_bytes` minus it is durable.
    public let spoolMemoryBytes: CoreMetrics.Gauge
    /// `cctr_spool_disk_full`: 1 while the spool's disk refuses writes and `--spool-full` applies.
    public let spoolDiskFull: CoreMetrics.Gauge
    public let spoolDropped: CoreMetrics.Counter
    private let commands: [String: CoreMetrics.Counter]
    public let connectionsRefused: CoreMetrics.Counter
    /// `cctr_connections_held`: connections that sent no valid frame, held unread by the
    /// `Tarpit` until they are closed.
    public let connectionsHeld: CoreMetrics.Gauge
    /// `cctr_udp_datagrams_dropped_total`: datagrams over their source address's byte budget,
    /// dropped unparsed.
    public let udpDatagramsDropped: CoreMetrics.Counter
    /// `cctr_accept_errors_total{reason}`: accepts that failed for lack of descriptors,
    /// `EMFILE` (this process's limit) or `ENFILE` (the system's), or of kernel memory
    /// (`ENOBUFS`, `ENOMEM`).
    private let acceptErrors: [String: CoreMetrics.Counter]
    /// `cctr_connections_closed_total{reason}`: device connections the bridge closed itself.
    private let connectionsClosed: [ConnectionCloseReason: CoreMetrics.Counter]

    /// Message types with their own `cctr_frames_total{type,protocol}` series, per protocol;
    /// any other type counts as `unknown`.
    public static let knownTypes: [ProtocolName: [String]] = [
        .carscop: ["UB00", "UB05", "UD00", "UD04", "UB04", "UA01"],
        .h02: ["V1", "V2", "VI1", "V19", "VP1", "V4", "NBR", "V3", "LINK", "HTBT", "binary"],
    ]
    public static let commandStatuses = ["queued", "sent", "acked", "failed", "expired", "rejected"]

    /// Reasons that come from the decoder or framer (`cctr_decode_errors_total`), as opposed
    /// to session and policy reasons.
    static let decodeReasons: [RejectReason] = [
        .protocolSwitch, .badHeader, .badGPSBlock, .coordinateOutOfRange, .badDeviceID, .truncatedFrame, .oversizeFrame, .garbage,
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        connections = Dictionary(uniqueKeysWithValues: Transport.devices.map {
            ($0, CoreMetrics.Gauge(label: "cctr_connections", dimensions: [("transport", $0.rawValue)], factory: factory))
        })
        let protocols = TrackerProtocols.all.map { $0.name }
        frames = Dictionary(uniqueKeysWithValues: protocols.map { name in
            (name, Dictionary(uniqueKeysWithValues: (Self.knownTypes[name] ?? []).map {
                ($0, CoreMetrics.Counter(
                    label: "cctr_frames_total", dimensions: [("type", $0), ("protocol", name.rawValue)], factory: factory))
            }))
        })
        framesUnknown = Dictionary(uniqueKeysWithValues: protocols.map { name in
            (name, CoreMetrics.Counter(
                label: "cctr_frames_total", dimensions: [("type", "unknown"), ("protocol", name.rawValue)], factory: factory))
        })
        decodeErrors = Dictionary(uniqueKeysWithValues: Self.decodeReasons.map {
            ($0, CoreMetrics.Counter(label: "cctr_decode_errors_total", dimensions: [("reason", $0.rawValue)], factory: factory))
        })
        deadLetters = Dictionary(uniqueKeysWithValues: RejectReason.allCases.map {
            ($0, CoreMetrics.Counter(label: "cctr_deadletters_total", dimensions: [("reason", $0.rawValue)], factory: factory))
        })
        deadLettersRateLimited = CoreMetrics.Counter(
            label: "cctr_deadletters_total", dimensions: [("reason", "rate limited")], factory: factory
        )
        publishSeconds = CoreMetrics.Timer(label: "cctr_publish_seconds", dimensions: [], factory: factory)
        mqttConnected = CoreMetrics.Gauge(label: "cctr_mqtt_connected", dimensions: [], factory: factory)
        spoolBytes = CoreMetrics.Gauge(label: "cctr_spool_bytes", dimensions: [], factory: factory)
        spoolDropped = CoreMetrics.Counter(label: "cctr_spool_dropped_total", dimensions: [], factory: factory)
        spoolMemoryBytes = CoreMetrics.Gauge(label: "cctr_spool_memory_bytes", dimensions: [], factory: factory)
        spoolDiskFull = CoreMetrics.Gauge(label: "cctr_spool_disk_full", dimensions: [], factory: factory)
        commands = Dictionary(uniqueKeysWithValues: Self.commandStatuses.map {
            ($0, CoreMetrics.Counter(label: "cctr_commands_total", dimensions: [("status", $0)], factory: factory))
        })
        connectionsRefused = CoreMetrics.Counter(label: "cctr_connections_refused_total", dimensions: [], factory: factory)
        connectionsHeld = CoreMetrics.Gauge(label: "cctr_connections_held", dimensions: [], factory: factory)
        udpDatagramsDropped = CoreMetrics.Counter(label: "cctr_udp_datagrams_dropped_total", dimensions: [], factory: factory)
        acceptErrors = Dictionary(uniqueKeysWithValues: Self.acceptErrorReasons.map {
            ($0, CoreMetrics.Counter(label: "cctr_accept_errors_total", dimensions: [("reason", $0)], factory: factory))
        })
        connectionsClosed = Dictionary(uniqueKeysWithValues: ConnectionCloseReason.allCases.map {
            ($0, CoreMetrics.Counter(label: "cctr_connections_closed_total", dimensions: [("reason", $0.rawValue)], factory: factory))
        })
        mqttConnected.record(0)
        for gauge in connections.values { gauge.record(0) }
    }

    public func frameDecoded(_ message: DeviceMessage) {
        (frames[message.protocolName]?[message.messageType] ?? framesUnknown[message.protocolName])?.increment()
    }

    public func deadLettered(_ reason: RejectReason) {
        deadLetters[reason]?.increment()
        decodeErrors[reason]?.increment()
    }

    public func setConnections(_ transport: Transport, _ count: Int) {
        connections[transport]?.record(count)
    }

    public func command(status: String) {
        commands[status]?.increment()
    }

    public static let acceptErrorReasons = ["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]

    public func acceptFailed(reason: String) {
        acceptErrors[reason]?.increment()
    }

    public func connectionClosed(_ reason: ConnectionCloseReason) {
        connectionsClosed[reason]?.increment()
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}

/// Why the bridge closed a device connection itself (`cctr_connections_closed_total{reason}`).
public enum ConnectionCloseReason: String, CaseIterable, Sendable {
    /// No frame completed for `--idle-timeout`.
    case idle = "idle timeout"
    /// More than two maximum frames of bytes without one valid frame: not a tracker.
    case noValidFrame = "no valid frame"
}
