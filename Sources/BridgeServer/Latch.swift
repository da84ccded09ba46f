/// A one-shot signal tasks can wait for, with or without a deadline.
final class Latch: Sendable {
    private let isOpen = WaitableState(false)

    func open() {
        isOpen.update { $0 = true }
    }

    /// Returns once the latch is open; throws `CancellationError` if the task is cancelled first.
    func wait() async throws(CancellationError) {
        try await isOpen.wait { $0 ? () : nil }
    }

    /// Waits until the latch opens or `deadline` passes; true when it opened. Shutdown steps
    /// use it so that a broker that stopped answering cannot hold them past their budget.
    /// A cancelled task stops waiting too (false, unless the latch is open).
    func wait(until deadline: ContinuousClock.Instant) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await self.wait()) != nil }
            group.addTask {
                try? await Task.sleep(until: deadline)
                return false
            }
            let opened = await group.next() ?? false
            group.cancelAll()
            return opened || isOpen.withLock { $0 }
        }
    }
}
