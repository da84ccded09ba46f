import Synchronization

/// Where connections that sent no valid frame wait, unread, before they are closed.
///
/// Closing such a connection at once invites the client straight back: a flood that
/// reconnects as soon as it is closed makes the bridge accept, read, judge and close
/// thousands of connections a second, and every tracker on those event loops waits behind
/// that work. Held instead, the connection is not read again (its bytes back up into the
/// client, which blocks on its full send buffer) and is closed after `holdMilliseconds`, so
/// each flooding connection costs one accept per hold instead of one per 2 KiB.
///
/// The places are few (`capacity`), so a client that opens connections without waiting
/// cannot turn holding into a descriptor exhaustion: once every place is taken, a
/// connection is closed at once, as before. Holding never outlasts `--idle-timeout`, the
/// time a slow loris may keep a connection anyway.
final class Tarpit: Sendable {
    let holdMilliseconds: Int64
    let capacity: Int
    private let held = Atomic<Int>(0)

    init(holdMilliseconds: Int64 = 10_000, capacity: Int = 256) {
        self.holdMilliseconds = holdMilliseconds
        self.capacity = capacity
    }

    /// Takes a place; false when every place is taken (the caller closes at once).
    func enter() -> Bool {
        var current = held.load(ordering: .relaxed)
        while current < capacity {
            let (exchanged, original) = held.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func leave() {
        held.subtract(1, ordering: .relaxed)
    }

    /// Connections held now (`cctr_connections_held`).
    var count: Int { held.load(ordering: .relaxed) }
}
