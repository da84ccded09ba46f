import Synchronization

/// A one-shot signal tasks can wait for, with or without a deadline.
final class Latch: Sendable {
    private struct State: Sendable {
        var isOpen = false
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
    }

    private let state = Mutex(State())

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        waiters.forEach { $0.resume(returning: true) }
    }

    func wait() async {
        _ = await wait(until: nil)
    }

    /// Waits until the latch opens or `deadline` passes; true when it opened. Shutdown steps
    /// use it so that a broker that stopped answering cannot hold them past their budget.
    @discardableResult
    func wait(until deadline: ContinuousClock.Instant?) async -> Bool {
        await withCheckedContinuation { continuation in
            let waiter = state.withLock { state -> Int? in
                if state.isOpen { return nil }
                state.nextWaiter += 1
                state.waiters[state.nextWaiter] = continuation
                return state.nextWaiter
            }
            guard let waiter else { return continuation.resume(returning: true) }
            guard let deadline else { return }
            // Registered before the timer starts, so an early deadline cannot miss the waiter.
            Task {
                try? await Task.sleep(until: deadline)
                self.expire(waiter)
            }
        }
    }

    private func expire(_ waiter: Int) {
        let continuation = state.withLock { $0.waiters.removeValue(forKey: waiter) }
        continuation?.resume(returning: false)
    }
}
