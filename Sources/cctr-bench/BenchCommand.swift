import ArgumentParser

/// `cctr-bench`: the two halves of a throughput measurement against a broker, used by
/// `scripts/bench.sh`. `subscribe` is the measuring end (loss, duplicates, reordering,
/// latency); `publish` is the reference point, the broker's own limit for the bridge's
/// payloads and in-flight window.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cctr-bench",
        abstract: "Measure MQTT delivery of cctr-bridge payloads: a counting subscriber and a raw publisher.",
        subcommands: [SubscribeCommand.self, PublishCommand.self]
    )
}

/// Where the broker is; shared by both subcommands.
struct BrokerOptions: ParsableArguments {
    @Option(help: "Broker host.")
    var host = "127.0.0.1"

    @Option(help: "Broker port.")
    var port = 1883

    @Option(help: "Topic base (as the bridge's --topic-base).")
    var base = "cctr"
}
