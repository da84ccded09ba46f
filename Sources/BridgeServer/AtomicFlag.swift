import Synchronization

/// A boolean shared between threads (listeners up, publishes failed since the last
/// requeue). A class, so closures can capture it; `Atomic` itself cannot be copied.
final class AtomicFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var value: Bool { flag.load(ordering: .acquiring) }

    func set(_ value: Bool) {
        flag.store(value, ordering: .releasing)
    }
}
