import Foundation
import Synchronization
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A stand-in for an MQTT 3.1.1-only broker (mosquitto cannot be told to refuse MQTT 5): it
/// answers a CONNECT of protocol level 5 with the 3.1.1 CONNACK "unacceptable protocol
/// version" and closes (or, `silent`, closes without a word, as RabbitMQ's MQTT plugin
/// does), and accepts a level 4 CONNECT, then ignores the connection's traffic.
final class FakeV311Broker: Sendable {
    let port: Int
    private let listener: Int32
    /// Protocol level byte of every CONNECT received, in order; shared with the accept thread.
    private final class Record: Sendable {
        let levels = Mutex<[UInt8]>([])
    }

    private let record = Record()

    init(silent: Bool = false) throws {
        guard let (fd, port) = LoopbackNetwork.listeningSocket() else {
            throw RunningClient.Timeout(description: "fake broker cannot listen: \(errno)")
        }
        listener = fd
        self.port = port
        Thread { [record] in Self.accept(on: fd, record: record, silent: silent) }.start()
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    var connectLevels: [UInt8] { record.levels.withLock { $0 } }

    private static func accept(on listener: Int32, record: Record, silent: Bool) {
        while true {
            let connection = Glibc.accept(listener, nil, nil)
            guard connection >= 0 else { return }
            // CONNECT: 0x10, remaining length (1 byte for a short packet), 00 04 "MQTT", level.
            var header = [UInt8](repeating: 0, count: 9)
            let count = header.withUnsafeMutableBytes { recv(connection, $0.baseAddress, 9, Int32(MSG_WAITALL)) }
            guard count == 9, header[0] == 0x10 else {
                close(connection)
                continue
            }
            let level = header[8]
            record.levels.withLock { $0.append(level) }
            if level == 4 || !silent {
                let connack: [UInt8] = [0x20, 0x02, 0x00, level == 4 ? 0x00 : 0x01]
                _ = connack.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            if level == 4 {
                Thread { Self.drain(connection) }.start()
            } else {
                close(connection)
            }
        }
    }

    private static func drain(_ connection: Int32) {
        var buffer = [UInt8](repeating: 0, count: 1024)
        while buffer.withUnsafeMutableBytes({ recv(connection, $0.baseAddress, $0.count, 0) }) > 0 {}
        close(connection)
    }
}
