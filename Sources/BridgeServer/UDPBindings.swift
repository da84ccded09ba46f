import Foundation
import Synchronization

/// UDP source address → device id bindings, kept in the spool directory (`udp-bindings.json`)
/// so a restart does not forget which device a datagram without a `UB05` belongs to.
/// Written at most every sweep (a few seconds) and when a new binding appears: losing the
/// last few seconds only means a device's next frames wait for its next login.
public final class UDPBindings: Sendable {
    private struct Binding: Codable, Sendable {
        var deviceID: String
        var lastSeen: Int64
    }

    private struct State: Sendable {
        var bindings: [String: Binding]
        var dirty = false
    }

    private let url: URL
    private let state: Mutex<State>

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

    func bind(peer: String, deviceID: String, now: Int64, changed: Bool) {
        state.withLock { state in
            state.bindings[peer] = Binding(deviceID: deviceID, lastSeen: now)
            state.dirty = true
        }
        if changed { saveIfChanged() }
    }

    func unbind(peer: String) {
        state.withLock { state in
            if state.bindings.removeValue(forKey: peer) != nil { state.dirty = true }
        }
    }

    public func saveIfChanged() {
        let snapshot: [String: Binding]? = state.withLock { state in
            guard state.dirty else { return nil }
            state.dirty = false
            return state.bindings
        }
        guard let snapshot, let data = try? JSONEncoder().encode(snapshot) else { return }
        try? data.write(to: url, options: .atomic)
    }
}
