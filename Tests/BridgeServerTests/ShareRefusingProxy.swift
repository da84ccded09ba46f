import Foundation
import Synchronization
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A TCP relay in front of a real mosquitto that behaves like ejabberd towards shared
/// subscriptions: it closes the client's connection as soon as the client sends a SUBSCRIBE
/// naming `$share/`. Everything else passes through unchanged, so the bridge talks to a real
/// broker and only the refusal is staged (mosquitto itself cannot be told to refuse `$share`).
final class ShareRefusingProxy: Sendable {
    let port: Int
    private let listener: Int32
    private final class Counters: Sendable {
        let connections = Atomic<Int>(0)
        let refusals = Atomic<Int>(0)
    }

    private let counters = Counters()

    init(brokerPort: Int) throws {
        guard let (fd, port) = LoopbackNetwork.listeningSocket() else { throw POSIXError(.EADDRINUSE) }
        listener = fd
        self.port = port
        Thread { [counters] in Self.accept(on: fd, brokerPort: brokerPort, counters: counters) }.start()
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Client connections accepted so far.
    var connections: Int { counters.connections.load(ordering: .relaxed) }
    /// Connections closed because of a `$share` SUBSCRIBE.
    var refusals: Int { counters.refusals.load(ordering: .relaxed) }

    private static func accept(on listener: Int32, brokerPort: Int, counters: Counters) {
        while true {
            let client = Glibc.accept(listener, nil, nil)
            guard client >= 0 else { return }
            counters.connections.add(1, ordering: .relaxed)
            guard let broker = LoopbackNetwork.connectedSocket(port: brokerPort) else {
                close(client)
                continue
            }
            Thread { pump(from: client, to: broker, refusingShare: true, counters: counters) }.start()
            Thread { pump(from: broker, to: client, refusingShare: false, counters: counters) }.start()
        }
    }

    /// Copies bytes until either side closes; then shuts both down so the other pump ends too.
    /// The bridge sends `$share/` only in its command SUBSCRIBE, small enough to arrive in
    /// one read.
    private static func pump(from source: Int32, to destination: Int32, refusingShare: Bool, counters: Counters) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let share = Array("$share/".utf8)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            let chunk = buffer[0..<n]
            if refusingShare, chunk.firstRange(of: share) != nil {
                counters.refusals.add(1, ordering: .relaxed)
                break
            }
            guard chunk.withUnsafeBytes({ send(destination, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == n else { break }
        }
        shutdown(source, Int32(SHUT_RDWR))
        shutdown(destination, Int32(SHUT_RDWR))
        // Each side is closed by the pump that reads from it.
        close(source)
    }
}
