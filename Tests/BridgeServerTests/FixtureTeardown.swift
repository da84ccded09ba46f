import Synchronization
import Testing

/// Tears down every `BridgeFixture` a test started, and waits for it, before the test counts
/// as finished. A `defer` cannot await, and a teardown left to a detached task ran while the
/// next test was already starting its own bridge and broker, or never, when the test process
/// exited first (its broker then outlived the run).
struct FixtureTeardown: SuiteTrait, TestTrait, TestScoping {
    /// The fixtures started in the current test, if it runs under this trait.
    @TaskLocal static var registry: Registry?

    final class Registry: Sendable {
        private let fixtures = Mutex<[BridgeFixture]>([])

        func add(_ fixture: BridgeFixture) {
            fixtures.withLock { $0.append(fixture) }
        }

        /// Last started, first torn down: a second instance goes before the broker it shares.
        func tearDownAll() async {
            let started = fixtures.withLock { fixtures in
                defer { fixtures.removeAll() }
                return fixtures
            }
            for fixture in started.reversed() {
                await fixture.tearDown()
            }
        }
    }

    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard testCase != nil else { return try await function() }
        let registry = Registry()
        try await Self.$registry.withValue(registry) {
            do {
                try await function()
            } catch {
                await registry.tearDownAll()
                throw error
            }
            await registry.tearDownAll()
        }
    }
}

extension Trait where Self == FixtureTeardown {
    /// For suites whose tests start a `BridgeFixture`.
    static var tearsDownFixtures: Self { FixtureTeardown() }
}
