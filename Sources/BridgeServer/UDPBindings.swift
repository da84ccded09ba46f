import Dispatch
import Foundation
import Synchronization

/// UDP source address → device id bindings, kept in the spool directory (`udp-bindings.json`)
/// so a restart (or a crash) does not forget which device a datagram without a `UB05`
/// belongs to.
///
/// A new or changed binding is saved at once, the refreshed `lastSeen` times only at the
/// handler's sweep: losing a few seconds of those only shortens a binding's life, while a
/// lost binding makes the device's next frames wait for its next login. The file is written
/// on a private serial queue, never on the event loop that reports the binding, and saves
/// requested while one is pending are coalesced into it.
public final class UDPBindings: Sendable {
    private struct Binding: Codable, Sendable {
        var deviceID: String
        var lastSeen: Int64
    }

    private struct State: Sendable {
        var bindings: [String: Binding]
        var dirty = false
        var saveScheduled = false
    }

    private let url: URL
    private let state: Mutex<State>
    private let writer = DispatchQueue(label: "cctr.udp-bindings")

    public init(directory: String) {
        url = URL(fileURLWithPath: directory).appendingPathComponent("udp-bindings.json")
        let loaded = (try? Data(contentsOf: url)).flatMap { try? JSONDecoder().decode([String: Binding].self, from: $0) }
        state = Mutex(State(bindings: loaded ?? [:]))
    }

    func deviceID(forPeer peer: String, now: Int64, maxAge: Int64) -> String? {
        state.withLock { state in
            guard let binding = state.bindings[peer], now - binding.lastSeen < maxAge else { return nil }
            return binding.deviceID
        }
    }

    /// Records that `peer` sent a frame of `deviceID`; a binding that is new or names
    /// another device is saved promptly (off the caller's thread).
    func bind(peer: String, deviceID: String, now: Int64) {
        let changed = state.withLock { state in
            let changed = state.bindings[peer]?.deviceID != deviceID
            state.bindings[peer] = Binding(deviceID: deviceID, lastSeen: now)
            state.dirty = true
            return changed
        }
        if changed { scheduleSave() }
    }

    func unbind(peer: String) {
        state.withLock { state in
            if state.bindings.removeValue(forKey: peer) != nil { state.dirty = true }
        }
    }

    /// Saves the bindings on the writer queue if anything changed since the last save;
    /// returns at once.
    func scheduleSave() {
        let schedule = state.withLock { state in
            guard state.dirty, !state.saveScheduled else { return false }
            state.saveScheduled = true
            return true
        }
        if schedule { writer.async { self.writeIfDirty() } }
    }

    /// Saves what changed and waits for the file, after any save already scheduled: for
    /// shutdown, never for an event loop.
    public func flush() {
        writer.sync { writeIfDirty() }
    }

    private func writeIfDirty() {
        let snapshot: [String: Binding]? = state.withLock { state in
            state.saveScheduled = false
            guard state.dirty else { return nil }
            state.dirty = false
            return state.bindings
        }
        guard let snapshot, let data = try? JSONEncoder().encode(snapshot) else { return }
        try? data.write(to: url, options: .atomic)
    }
}
