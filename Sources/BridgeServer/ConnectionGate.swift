/// The broker connection's state as something tasks can wait on: publishing waits while it
/// is down, and stops once it is closed for shutdown.
final class ConnectionGate: Sendable {
    private struct State: Sendable {
        var open = false
        var closed = false
    }

    private let state = WaitableState(State())

    func set(_ open: Bool) {
        state.update { state in
            if !state.closed { state.open = open }
        }
    }

    func close() {
        state.update { $0.closed = true }
    }

    /// Returns true once the connection is up, false once the gate is closed or the waiting
    /// task is cancelled.
    func waitUntilOpen() async -> Bool {
        let open = try? await state.wait { state -> Bool? in
            if state.closed { return false }
            return state.open ? true : nil
        }
        return open ?? false
    }
}
