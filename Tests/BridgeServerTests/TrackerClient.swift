import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A fake tracker on loopback: a plain socket, so tests control exactly which bytes go out
/// when (splits, pauses, closes).
///
/// `@unchecked Sendable`: it holds only an immutable descriptor, and tests hand a client to
/// one background task that is then its only user (a flooding or dripping sender).
final class TrackerClient: @unchecked Sendable {
    let fd: Int32
    let isUDP: Bool

    convenience init(tcpPort port: Int) throws {
        try self.init(port: port, type: Int32(SOCK_STREAM.rawValue))
    }

    /// A connected UDP socket: every `send` is one datagram from the same source port.
    convenience init(udpPort port: Int) throws {
        try self.init(port: port, type: Int32(SOCK_DGRAM.rawValue))
    }

    private init(port: Int, type: Int32) throws {
        guard let fd = LoopbackNetwork.connectedSocket(port: port, type: type) else { throw POSIXError(.ECONNREFUSED) }
        self.fd = fd
        isUDP = type == Int32(SOCK_DGRAM.rawValue)
    }

    deinit {
        close(fd)
    }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            offset += n
        }
    }

    /// Reads what the bridge sent (downlink), waiting at most `timeout` (15 s: a loaded CI
    /// machine can be slow; a passing test does not wait for it). It polls the socket and
    /// sleeps between polls instead of blocking in `recv`: a blocked call would hold one of the
    /// few threads of Swift's cooperative pool, which the bridges under test (in this process)
    /// need to deliver what is being waited for.
    func receive(timeout: Duration = .seconds(15)) async -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        return await poll(timeout: timeout) { n in n > 0 ? Array(buffer[0..<n]) : [] } read: {
            buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        } ?? []
    }

    /// True once the bridge closed the connection (recv returns 0), false on a reset or when
    /// it stays open for `timeout`; what it still sends is read and dropped.
    func waitForClose(timeout: Duration = .seconds(15)) async -> Bool {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while let n = await poll(timeout: deadline - ContinuousClock.now, { $0 }, read: {
            buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        }) {
            if n <= 0 { return n == 0 }
        }
        return false
    }

    /// Calls `read` (a non-blocking `recv`) until it returns something other than
    /// EAGAIN, or `timeout` passes (nil); `result` turns the byte count into the answer.
    private func poll<T>(
        timeout: Duration, _ result: (Int) -> T, read: () -> Int
    ) async -> T? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        repeat {
            let n = read()
            if n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { return result(n) }
            try? await Task.sleep(for: .milliseconds(5))
        } while ContinuousClock.now < deadline
        return nil
    }

    func shutdownWrite() {
        Glibc.shutdown(fd, Int32(SHUT_WR))
    }
}
