import Synchronization

/// An atomic integer that closures can share (`Atomic` itself cannot be captured by an
/// escaping closure, being non-copyable).
final class Counter: Sendable {
    private let storage: Atomic<Int64>

    init(_ value: Int64 = 0) { storage = Atomic(value) }

    var value: Int64 { storage.load(ordering: .acquiring) }

    func store(_ value: Int64) { storage.store(value, ordering: .releasing) }

    /// Adds `delta` and returns the new value.
    @discardableResult
    func add(_ delta: Int64) -> Int64 { storage.add(delta, ordering: .acquiringAndReleasing).newValue }
}
