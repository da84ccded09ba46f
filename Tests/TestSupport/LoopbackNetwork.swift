import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small POSIX helpers for tests that run servers on 127.0.0.1.
public enum LoopbackNetwork {
    /// Every port `freePort` returned in this process.
    private static let handedOut = Mutex<Set<Int>>([])

    /// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed).
    /// Another process could take it before the caller binds; `MosquittoBroker` retries.
    /// Never the same port twice in one test process: a test that stops its broker expects
    /// nothing on that port, and suites running in parallel would otherwise get it again.
    public static func freePort() -> Int {
        while true {
            let port = systemChosenPort()
            if handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
    }

    private static func systemChosenPort() -> Int {
        guard let (fd, port) = listeningSocket(backlog: 1) else { preconditionFailure("cannot bind 127.0.0.1:0: \(errno)") }
        close(fd)
        return port
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port` right now.
    public static func isAccepting(port: Int) -> Bool {
        guard let fd = connectedSocket(port: port) else { return false }
        close(fd)
        return true
    }

    /// A socket of `type` (TCP by default) connected to 127.0.0.1:`port`, or nil when the
    /// connect fails. The caller closes it.
    public static func connectedSocket(port: Int, type: Int32 = Int32(SOCK_STREAM.rawValue)) -> Int32? {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { return nil }
        var address = loopbackAddress(port: port)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// A TCP socket listening on 127.0.0.1 at a port the system chose, or nil. The caller
    /// closes it.
    public static func listeningSocket(backlog: Int32 = 8) -> (fd: Int32, port: Int)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = loopbackAddress(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            close(fd)
            return nil
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Shuts down (without closing: the owner keeps a valid descriptor) every established TCP
    /// socket of this process whose peer is 127.0.0.1:`port`, as a network failure would.
    /// The peer sees the connection end without an MQTT DISCONNECT. Linux only (`/proc`).
    /// Returns how many sockets were shut down.
    @discardableResult
    public static func severConnections(toPort port: Int) -> Int {
        guard let table = readProcFile("/proc/net/tcp") else { return 0 }
        let peer = String(format: "0100007F:%04X", port)
        var inodes = Set<String>()
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            // Columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            guard fields.count > 9, fields[2] == peer, fields[3] == "01" else { continue }
            inodes.insert(String(fields[9]))
        }
        guard !inodes.isEmpty,
              let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
        else { return 0 }
        var count = 0
        for name in descriptors {
            guard let fd = Int32(name),
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)"),
                  target.hasPrefix("socket:["), inodes.contains(String(target.dropFirst(8).dropLast()))
            else { continue }
            if shutdown(fd, Int32(SHUT_RDWR)) == 0 { count += 1 }
        }
        return count
    }

    /// Reads a `/proc` file to its end: they report size 0, and a single read returns one page.
    private static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func loopbackAddress(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
