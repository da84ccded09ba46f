import Synchronization

/// The broker connection's state as something tasks can wait on: publishing waits while it
/// is down, and stops once it is closed for shutdown.
final class ConnectionGate: Sendable {
    private struct State: Sendable {
        var open = false
        var closed = false
        var openWaiters: [CheckedContinuation<Bool, Never>] = []
    }

    private let state = Mutex(State())


    func set(_ open: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard !state.closed else { return [] }
            state.open = open
            guard open else { return [] }
            defer { state.openWaiters.removeAll() }
            return state.openWaiters
        }
        waiters.forEach { $0.resume(returning: true) }
    }

    func close() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.openWaiters.removeAll() }
            return state.openWaiters
        }
        waiters.forEach { $0.resume(returning: false) }
    }

    /// Returns true once the connection is up, false once the gate is closed.
    func waitUntilOpen() async -> Bool {
        await withCheckedContinuation { continuation in
            let result = state.withLock { state -> Bool? in
                if state.closed { return false }
                if state.open { return true }
                state.openWaiters.append(continuation)
                return nil
            }
            if let result { continuation.resume(returning: result) }
        }
    }
}
