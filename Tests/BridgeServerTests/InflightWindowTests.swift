@testable import BridgeServer
import TestSupport
import Testing

@Suite struct InflightWindowTests {
    @Test func grantsWhatIsFreeWithoutWaiting() async {
        let window = InflightWindow(capacity: 16)
        #expect(await window.acquireUpTo(10) == 10)
        #expect(await window.acquireUpTo(10) == 6)
        window.release(16)
        #expect(await window.acquireUpTo(100) == 16)
    }

    /// A full window wakes its publisher once an eighth of it is free, not per PUBACK, so a
    /// saturated bridge publishes in bursts instead of hopping threads for every message.
    @Test func aFullWindowWakesThePublisherOnceAnEighthIsFree() async throws {
        let window = InflightWindow(capacity: 16)
        #expect(window.wakeThreshold == 2)
        #expect(await window.acquireUpTo(16) == 16)
        let waiter = Task { await window.acquireUpTo(16) }
        #expect(try await eventually { window.waiterCount == 1 })
        window.release(1)
        #expect(window.waiterCount == 1, "one free slot does not wake it")
        window.release(1)
        #expect(await waiter.value == 2)
    }

    @Test func aWindowOfOneStillWakesOnEveryRelease() async {
        let window = InflightWindow(capacity: 1)
        #expect(window.wakeThreshold == 1)
        #expect(await window.acquireUpTo(4) == 1)
        let waiter = Task { await window.acquireUpTo(4) }
        window.release(1)
        #expect(await waiter.value == 1)
    }

    @Test func waitUntilEmptyReturnsOnceEverySlotIsBack() async {
        let window = InflightWindow(capacity: 8)
        #expect(await window.acquireUpTo(8) == 8)
        let emptied = Task { await window.waitUntilEmpty() }
        window.release(3)
        window.release(5)
        await emptied.value
        #expect(await window.acquireUpTo(8) == 8)
    }

    @Test func aCancelledPublisherStopsWaitingForRoom() async throws {
        let window = InflightWindow(capacity: 4)
        #expect(await window.acquireUpTo(4) == 4)
        let room = Task { await window.acquireUpTo(4) }
        #expect(try await eventually { window.waiterCount == 1 })
        room.cancel()
        #expect(await room.value == 0)
        #expect(window.waiterCount == 0)
    }

    /// At shutdown a hung broker keeps the window full: closing it ends the publisher's waits
    /// for room and for an empty window, and later acquisitions get nothing.
    @Test func closingEndsEveryWait() async {
        let window = InflightWindow(capacity: 4)
        #expect(await window.acquireUpTo(4) == 4)
        let room = Task { await window.acquireUpTo(4) }
        let emptied = Task { await window.waitUntilEmpty() }
        window.close()
        #expect(await room.value == 0)
        await emptied.value
        #expect(await window.acquireUpTo(4) == 0)
    }
}
