import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.0 client for the bridge's health listener on 127.0.0.1: one request, the
/// answer read until the server closes (no URLSession, whose Linux port the tests should not
/// depend on).
public enum LoopbackHTTP {
    public struct Response: Sendable {
        public var status: Int
        /// Header names lowercased.
        public var headers: [String: String]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func get(port: Int, path: String, headers: [String: String] = [:]) throws -> Response {
        guard let fd = LoopbackNetwork.connectedSocket(port: port) else {
            throw Failure(description: "connect to port \(port): errno \(errno)")
        }
        defer { close(fd) }
        // A server that accepted but never answers (a bridge at its open-file limit) fails the
        // request after 5 s instead of blocking the test's thread.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request = "GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        let bytes = Array((request + "\r\n").utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw Failure(description: "send: errno \(errno)")
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let separator = Array("\r\n\r\n".utf8)
        guard let end = (0...max(0, response.count - 4)).first(where: { Array(response[$0..<min($0 + 4, response.count)]) == separator })
        else { throw Failure(description: "no HTTP header in \(response.count) bytes") }
        let head = String(decoding: response[..<end], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = head.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
            throw Failure(description: "bad status line")
        }
        var fields: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Response(status: status, headers: fields, body: Array(response[(end + 4)...]))
    }

    /// The sum of every sample of a Prometheus metric family (`name{...} value` and
    /// `name value` lines) on the `/metrics` of 127.0.0.1:`port`; 0 when absent.
    public static func metric(_ name: String, port: Int) throws -> Double {
        var sum = 0.0
        for line in try get(port: port, path: "/metrics").text.split(separator: "\n")
        where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            sum += Double(line.split(separator: " ").last ?? "") ?? 0
        }
        return sum
    }
}
