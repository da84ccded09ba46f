import DequeModule
import Synchronization

/// Bounds the publishes in flight to the broker (libmosquitto's send window), and lets the
/// publisher wait for room or for the window to empty.
final class InflightWindow: Sendable {
    private struct State: Sendable {
        var available: Int
        var roomWaiters: Deque<CheckedContinuation<Void, Never>> = []
        var emptyWaiters: [CheckedContinuation<Void, Never>] = []
        var closed = false
    }

    let capacity: Int
    /// Free slots a full window needs before the waiting publisher is woken. Waking it per
    /// PUBACK made a saturated bridge hop threads once per message (the loop thread resumes
    /// the task, which publishes one message and waits again); waking it per eighth of the
    /// window lets it publish in bursts, while the other seven eighths keep the broker busy.
    let wakeThreshold: Int
    private let state: Mutex<State>

    init(capacity: Int) {
        self.capacity = capacity
        wakeThreshold = max(1, capacity / 8)
        state = Mutex(State(available: capacity))
    }

    /// Takes between 1 and `maximum` slots, waiting until at least one is free; 0 once closed.
    func acquireUpTo(_ maximum: Int) async -> Int {
        while true {
            let granted = state.withLock { state -> Int? in
                if state.closed { return 0 }
                let n = min(maximum, state.available)
                state.available -= n
                return n > 0 ? n : nil
            }
            if let granted { return granted }
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.closed || state.available >= wakeThreshold { return true }
                    state.roomWaiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    func release(_ count: Int) {
        guard count > 0 else { return }
        let (room, empty) = state.withLock { state -> ([CheckedContinuation<Void, Never>], [CheckedContinuation<Void, Never>]) in
            state.available += count
            var room: [CheckedContinuation<Void, Never>] = []
            if state.available >= wakeThreshold {
                room = Array(state.roomWaiters)
                state.roomWaiters.removeAll()
            }
            guard state.available == capacity else { return (room, []) }
            defer { state.emptyWaiters.removeAll() }
            return (room, state.emptyWaiters)
        }
        for waiter in room + empty { waiter.resume() }
    }

    /// Ends every wait, now and later: at shutdown a hung broker holds the window full, and
    /// the publisher must not wait for acknowledgements that never come.
    func close() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = true
            defer {
                state.roomWaiters.removeAll()
                state.emptyWaiters.removeAll()
            }
            return Array(state.roomWaiters) + state.emptyWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once every slot is free, or the window is closed.
    func waitUntilEmpty() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.closed || state.available == capacity { return true }
                state.emptyWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
