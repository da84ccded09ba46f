import Foundation

/// A throw-away PKI made with the `openssl` command line in a temporary directory, for TLS
/// tests against a real broker: a CA the client trusts, an unrelated CA it does not know,
/// and server certificates signed by the CA for `localhost`/127.0.0.1 (valid and expired)
/// and for another host name. Removed in `deinit`.
///
/// The expired certificate is made with `openssl ca -startdate/-enddate`, which Debian's
/// OpenSSL 3.0 supports (its `x509 -req` has no `-not_before`), so no clock faking is needed.
public final class TestCertificates: Sendable {
    public enum Server: String, Sendable, CaseIterable {
        /// For `localhost` and 127.0.0.1, valid for 30 days.
        case valid
        /// For `localhost` and 127.0.0.1, valid only in January 2020.
        case expired
        /// Valid, but for `other.example` only.
        case otherHost = "other-host"
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let directory: URL

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cctr-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("db"), withIntermediateDirectories: true)
        try "".write(to: directory.appendingPathComponent("db/index.txt"), atomically: true, encoding: .utf8)
        try "01\n".write(to: directory.appendingPathComponent("db/serial"), atomically: true, encoding: .utf8)
        try """
            [ca]
            default_ca = test
            [test]
            database = db/index.txt
            new_certs_dir = db
            serial = db/serial
            unique_subject = no
            default_md = sha256
            policy = any
            copy_extensions = copy
            [any]
            commonName = supplied

            """.write(to: directory.appendingPathComponent("ca.cnf"), atomically: true, encoding: .utf8)
        for ca in ["ca", "other-ca"] {
            try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(ca).key", "-out", "\(ca).crt",
                         "-days", "30", "-subj", "/CN=cctr test \(ca)"])
        }
        let names: [(Server, String, String)] = [
            (.valid, "localhost", "DNS:localhost,IP:127.0.0.1"),
            (.expired, "localhost", "DNS:localhost,IP:127.0.0.1"),
            (.otherHost, "other.example", "DNS:other.example"),
        ]
        for (server, commonName, names) in names {
            let name = server.rawValue
            try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr",
                         "-subj", "/CN=\(commonName)", "-addext", "subjectAltName=\(names)"])
            let validity = server == .expired
                ? ["-startdate", "20200101000000Z", "-enddate", "20200201000000Z"] : ["-days", "30"]
            try openssl(["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-notext",
                         "-in", "\(name).csr", "-out", "\(name).crt"] + validity)
        }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The CA that signed the server certificates.
    public var caFile: String { directory.appendingPathComponent("ca.crt").path }
    /// A CA that signed nothing the broker presents.
    public var otherCAFile: String { directory.appendingPathComponent("other-ca.crt").path }

    /// Where the broker reads its certificate and key: `use(_:)` copies one of the server
    /// certificates there, so a restarted broker presents another one on the same port.
    public var brokerSettings: [String] {
        ["cafile \(caFile)", "certfile \(path("broker.crt"))", "keyfile \(path("broker.key"))"]
    }

    /// Broker settings for a listener that takes the user name from the client certificate
    /// (Mosquitto's `use_identity_as_username`) but does not require one: a client without a
    /// certificate gets "bad user name or password" (MQTT 5 0x86, 3.1.1 code 4).
    public var identityAsUsernameSettings: [String] {
        brokerSettings + ["require_certificate false", "use_identity_as_username true"]
    }

    /// Makes `server` the certificate the broker presents from its next (re)start.
    public func use(_ server: Server) throws {
        for suffix in ["crt", "key"] {
            let target = directory.appendingPathComponent("broker.\(suffix)")
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: directory.appendingPathComponent("\(server.rawValue).\(suffix)"), to: target)
        }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "openssl \(arguments.joined(separator: " ")) failed:\n\(text)")
        }
    }
}
