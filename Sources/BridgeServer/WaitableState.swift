import Synchronization

/// A state behind one lock, and the tasks waiting for a condition on it: the bridge's one way
/// for a task to wait for something another thread does (`Latch`, `ConnectionGate`,
/// `InflightWindow`, the publish pipeline's ingress queue).
///
/// A waiter's condition is checked and the waiter queued under the same lock that `update`
/// holds while it changes the state and re-checks the queued conditions, so no change can
/// fall between a check and the wait (no lost wake-up). Waiters are checked, and resumed, in
/// the order they came. A condition may change the state as it is satisfied (take slots, take
/// a batch): a later waiter sees what an earlier one left.
///
/// A cancelled waiter is taken out of the queue and resumed at once with `CancellationError`,
/// so a cancelled task never hangs on a signal that will not come, and each waiter is resumed
/// exactly once: by `update` or by its cancellation, whichever takes it out of the queue.
final class WaitableState<State: Sendable>: Sendable {
    private struct Waiter: Sendable {
        let id: UInt64
        /// Checks the waiter's condition on the state, under the lock; when it holds, returns
        /// what resumes the waiter (called after the lock is released).
        let check: @Sendable (inout State) -> (@Sendable () -> Void)?
        let cancel: @Sendable () -> Void
    }

    private struct Storage: Sendable {
        var state: State
        var waiters: [Waiter] = []
    }

    private let storage: Mutex<Storage>
    private let nextID = Atomic<UInt64>(0)

    init(_ state: State) {
        storage = Mutex(Storage(state: state))
    }

    /// Reads or changes the state without waking anyone: for changes no waiter waits for.
    func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        try storage.withLock { try body(&$0.state) }
    }

    /// Changes the state, then resumes every waiter whose condition now holds.
    @discardableResult
    func update<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        let (result, ready) = try storage.withLock { storage -> (Result, [@Sendable () -> Void]) in
            let result = try body(&storage.state)
            guard !storage.waiters.isEmpty else { return (result, []) }
            var ready: [@Sendable () -> Void] = []
            storage.waiters.removeAll { waiter in
                guard let resume = waiter.check(&storage.state) else { return false }
                ready.append(resume)
                return true
            }
            return (result, ready)
        }
        for resume in ready { resume() }
        return result
    }

    /// Returns the condition's value as soon as it is non-nil: at once, or after an `update`
    /// that makes it so. Throws `CancellationError` when the task is (or gets) cancelled first.
    func wait<Value: Sendable>(
        until condition: @escaping @Sendable (inout State) -> Value?
    ) async throws(CancellationError) -> Value {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, CancellationError>, Never>) in
                let immediate = storage.withLock { storage -> Result<Value, CancellationError>? in
                    // The cancellation handler may already have run and found nothing to
                    // remove; the flag it follows is set before it runs.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if let value = condition(&storage.state) { return .success(value) }
                    storage.waiters.append(Waiter(
                        id: id,
                        check: { state in
                            guard let value = condition(&state) else { return nil }
                            return { continuation.resume(returning: .success(value)) }
                        },
                        cancel: { continuation.resume(returning: .failure(CancellationError())) }
                    ))
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let cancel = storage.withLock { storage -> (@Sendable () -> Void)? in
                guard let index = storage.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return storage.waiters.remove(at: index).cancel
            }
            cancel?()
        }
        return try result.get()
    }

    /// Tasks waiting now; tests use it to know a waiter is queued before they signal.
    var waiterCount: Int { storage.withLock { $0.waiters.count } }
}
