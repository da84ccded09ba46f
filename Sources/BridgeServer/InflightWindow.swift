/// Bounds the publishes in flight to the broker (libmosquitto's send window), and lets the
/// publisher wait for room or for the window to empty.
final class InflightWindow: Sendable {
    private struct State: Sendable {
        var available: Int
        var closed = false
    }

    let capacity: Int
    /// Free slots a full window needs before the waiting publisher is woken. Waking it per
    /// PUBACK made a saturated bridge hop threads once per message (the loop thread resumes
    /// the task, which publishes one message and waits again); waking it per eighth of the
    /// window lets it publish in bursts, while the other seven eighths keep the broker busy.
    let wakeThreshold: Int
    private let state: WaitableState<State>

    init(capacity: Int) {
        self.capacity = capacity
        wakeThreshold = max(1, capacity / 8)
        state = WaitableState(State(available: capacity))
    }

    /// Takes between 1 and `maximum` slots, waiting until at least one is free (then until
    /// `wakeThreshold` are); 0 once closed or when the waiting task is cancelled.
    func acquireUpTo(_ maximum: Int) async -> Int {
        let granted = state.withLock { state -> Int? in
            if state.closed { return 0 }
            let n = min(maximum, state.available)
            state.available -= n
            return n > 0 ? n : nil
        }
        if let granted { return granted }
        let threshold = wakeThreshold
        let woken = try? await state.wait { state -> Int? in
            if state.closed { return 0 }
            guard state.available >= threshold else { return nil }
            let n = min(maximum, state.available)
            state.available -= n
            return n
        }
        return woken ?? 0
    }

    func release(_ count: Int) {
        guard count > 0 else { return }
        state.update { $0.available += count }
    }

    /// Ends every wait, now and later: at shutdown a hung broker holds the window full, and
    /// the publisher must not wait for acknowledgements that never come.
    func close() {
        state.update { $0.closed = true }
    }

    /// Tasks waiting for room or for an empty window; tests use it to signal only once one waits.
    var waiterCount: Int { state.waiterCount }

    /// Returns once every slot is free, the window is closed, or the waiting task is cancelled.
    func waitUntilEmpty() async {
        let capacity = self.capacity
        _ = try? await state.wait { state in
            state.closed || state.available == capacity ? () : nil
        }
    }
}
