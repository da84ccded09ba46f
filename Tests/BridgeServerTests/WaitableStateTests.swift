@testable import BridgeServer
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct WaitableStateTests {
    /// Takes one token when there is one: a condition that changes the state as it holds.
    static func takeToken(_ tokens: inout Int) -> Bool? {
        guard tokens > 0 else { return nil }
        tokens -= 1
        return true
    }

    @Test func aConditionThatHoldsReturnsWithoutQueueing() async throws {
        let state = WaitableState(1)
        #expect(try await state.wait(until: Self.takeToken))
        #expect(state.withLock { $0 } == 0)
        #expect(state.waiterCount == 0)
    }

    @Test func waitersAreResumedInTheOrderTheyCame() async throws {
        let state = WaitableState(0)
        var waiters: [Task<Bool, any Error>] = []
        for queued in 1...3 {
            waiters.append(Task { try await state.wait(until: Self.takeToken) })
            #expect(try await eventually { state.waiterCount == queued })
        }
        for (index, waiter) in waiters.enumerated() {
            state.update { $0 += 1 }
            #expect(try await waiter.value)
            #expect(state.waiterCount == waiters.count - index - 1, "only the oldest waiter took the token")
        }
    }

    @Test func withLockWakesNobody() async throws {
        let state = WaitableState(0)
        let waiter = Task { try await state.wait(until: Self.takeToken) }
        #expect(try await eventually { state.waiterCount == 1 })
        state.withLock { $0 = 1 }
        #expect(state.waiterCount == 1)
        state.update { _ in }
        #expect(try await waiter.value)
    }

    @Test func aTaskCancelledBeforeItWaitsIsNotQueued() async {
        let state = WaitableState(0)
        let waiter = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await state.wait(until: Self.takeToken)
        }
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(state.waiterCount == 0)
    }

    @Test func cancellingAWaiterResumesAndRemovesIt() async throws {
        let state = WaitableState(0)
        let waiter = Task { try await state.wait(until: Self.takeToken) }
        #expect(try await eventually { state.waiterCount == 1 })
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(state.waiterCount == 0)
        // The token the cancelled waiter would have taken stays (and nothing is resumed twice:
        // a second resume of its continuation would trap).
        state.update { $0 += 1 }
        #expect(state.withLock { $0 } == 1)
    }

    /// A signal right after the waiter starts (before or after it queued) always reaches it.
    @Test func noWakeUpIsLost() async throws {
        for _ in 0..<2000 {
            let state = WaitableState(0)
            let waiter = Task { try await state.wait(until: Self.takeToken) }
            state.update { $0 += 1 }
            #expect(try await waiter.value)
            #expect(state.withLock { $0 } == 0)
        }
    }

    /// Cancellation and a signal racing each other resume the waiter exactly once: either it
    /// took the token, or it was cancelled and the token is still there.
    @Test func cancellationRacingASignalResumesOnce() async throws {
        for _ in 0..<2000 {
            let state = WaitableState(0)
            let waiter = Task { try await state.wait(until: Self.takeToken) }
            async let signal: Void = state.update { $0 += 1 }
            waiter.cancel()
            await signal
            switch await waiter.result {
            case .success: #expect(state.withLock { $0 } == 0)
            case .failure(let error):
                #expect(error is CancellationError)
                #expect(state.withLock { $0 } == 1)
            }
            #expect(state.waiterCount == 0)
        }
    }
}
