import Foundation
import TestSupport
import Testing

/// `scripts/demo.sh` stops the bridge before the broker, so a demo ends with the bridge's
/// clean shutdown instead of reconnect warnings and a shutdown that waits out its timeout.
/// Running the whole demo builds the package; this runs the script's own `cleanup` over two
/// stand-in processes started in the script's order, and checks that order in the script.
@Suite struct DemoScriptTests {
    static let script = PublicFrame.packageRoot.appendingPathComponent("scripts/demo.sh")

    @Test func cleanupStopsTheBridgeBeforeTheBroker() throws {
        let text = try String(contentsOf: Self.script, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Which process each `pids+=($!)` records: the command started just before it.
        let starts = lines.indices.filter { lines[$0].contains("pids+=($!)") }
        let broker = try #require(lines.firstIndex { $0.contains("/usr/sbin/mosquitto -c") })
        let bridge = try #require(lines.firstIndex { $0.contains("cctr-bridge\" serve") })
        let brokerSlot = try #require(starts.firstIndex { $0 > broker })
        let bridgeSlot = try #require(starts.firstIndex { $0 > bridge })
        #expect(brokerSlot < bridgeSlot, "the broker must be recorded before the bridge")

        let order = FileManager.default.temporaryDirectory.appendingPathComponent("cctr-demo-order-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: order) }
        let harness = """
            set -euo pipefail
            eval "$(sed -n '/^cleanup() {/,/^}/p' "$1")"
            run=$(mktemp -d)
            pids=()
            stand_in() { trap "echo $1 >> '\(order.path)'; exit 0" TERM; while :; do sleep 0.02; done; }
            stand_in broker & pids+=($!)
            stand_in bridge & pids+=($!)
            sleep 0.2
            cleanup
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", harness, "demo-cleanup", Self.script.path]
        try process.runWithDefaultSignalMask()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let stopped = try String(contentsOf: order, encoding: .utf8).split(separator: "\n")
        #expect(stopped == ["bridge", "broker"], "\(stopped)")
    }
}
