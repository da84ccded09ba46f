/// Runs the bridge with resolved options; placeholder until the server branch is merged.
public enum BridgeApp { public static func run(options: BridgeOptions) async throws { } }
