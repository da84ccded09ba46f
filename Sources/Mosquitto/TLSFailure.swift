/// What libmosquitto and OpenSSL said about a failed TLS handshake during one connection
/// attempt, collected from libmosquitto's error log lines, so that the failure reads
/// "certificate has expired" instead of libmosquitto's bare "A TLS error occurred. (8)".
///
/// libmosquitto logs `OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed`
/// for every certificate problem, and `Error: host name verification failed.` before it when
/// the certificate names another host; OpenSSL's verify result, read while the log line is
/// delivered, tells an expired certificate from an unknown CA.
struct TLSFailure: Sendable, Hashable {
    /// libmosquitto's own check: the certificate is valid but not for the host connected to.
    var hostNameMismatch = false
    /// The reason of the last `OpenSSL Error[n]` line, e.g. "certificate verify failed".
    var openSSLReason: String?
    /// OpenSSL's certificate verification result, e.g. "certificate has expired"; `nil` when
    /// it passed or says nothing more than "unspecified".
    var verifyReason: String?

    var isEmpty: Bool { !hostNameMismatch && openSSLReason == nil && verifyReason == nil }

    /// Takes one libmosquitto error log line and OpenSSL's verify result at that moment.
    mutating func note(logLine line: String, verifyReason: String?) {
        if line.contains("host name verification failed") {
            hostNameMismatch = true
        } else if line.hasPrefix("OpenSSL Error") {
            // "OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed":
            // the reason is the last colon-separated field.
            let reason = line.split(separator: ":", omittingEmptySubsequences: false).last.map { String($0.drop { $0 == " " }) }
            openSSLReason = reason.flatMap { $0.isEmpty ? nil : $0 } ?? line
        } else {
            return
        }
        if let verifyReason { self.verifyReason = verifyReason }
    }

    /// The reason in words, naming the host the certificate was checked against.
    func explanation(host: String) -> String {
        if hostNameMismatch {
            return "host name mismatch: the broker's certificate is not issued for '\(host)' (host name verification failed)"
        }
        switch (openSSLReason, verifyReason) {
        case (let reason?, let verify?): return "\(reason): \(verify)"
        case (let reason?, nil): return reason
        case (nil, let verify?): return verify
        case (nil, nil): return "no reason given by OpenSSL"
        }
    }
}
