import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fake tracker on loopback: a plain blocking socket, so tests control exactly which bytes
/// go out when (splits, pauses, closes).
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
        fd = socket(AF_INET, type, 0)
        isUDP = type == Int32(SOCK_DGRAM.rawValue)
        var address = Self.loopback(port: port)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
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

    /// Reads what the bridge sent (downlink), waiting at most the socket timeout (15 s: a
    /// loaded CI machine can be slow; a passing test does not wait for it).
    func receive() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    /// True once the bridge closed the connection (recv returns 0).
    func waitForClose() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return false }
        }
    }

    func shutdownWrite() {
        Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
