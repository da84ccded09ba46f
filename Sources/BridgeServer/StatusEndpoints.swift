import NIOHTTP1

/// The status page (`/`, its `/app.js` and `/app.css`) and the JSON API (`/api/bridge`,
/// `/api/devices`, `/api/devices/<id>`, `/api/deadletters`, `/api/commands`) on the health
/// listener.
///
/// With `--http-token`, the page and `/api/` need `Authorization: Bearer <token>` or
/// `?token=<token>` (the page passes the query's token on to its API calls); the script and
/// style sheet hold no data and stay open, as do `/healthz`, `/readyz` and `/metrics`.
/// Every answer carries a strict Content-Security-Policy (scripts and styles from this
/// origin only, no inline code), `nosniff` and `no-referrer` (a map link must not carry a
/// `?token=` away).
public struct StatusEndpoints: Sendable {
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var contentType: String
        var body: [UInt8]
        var headers: [(String, String)]
    }

    let api: StatusAPI
    /// The token's bytes; nil: no token asked.
    let token: [UInt8]?

    init(api: StatusAPI, token: String?) {
        self.api = api
        self.token = token.map { Array($0.utf8) }
    }

    static let securityHeaders: [(String, String)] = [
        ("Content-Security-Policy",
         "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Cache-Control", "no-store"),
    ]

    /// The answer for `uri`, or nil when the path is not one of these (the health handler
    /// answers it then).
    func respond(method: HTTPMethod, uri: String, headers: HTTPHeaders, now: Int64) -> Response? {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? uri
        let query = parts.count > 1 ? String(parts[1]) : ""
        let isAsset = path == "/app.js" || path == "/app.css"
        guard path == "/" || path.hasPrefix("/api/") || isAsset else { return nil }
        guard method == .GET || method == .HEAD else {
            return Self.text(.methodNotAllowed, "only GET\n", extra: [("Allow", "GET, HEAD")])
        }
        if !isAsset, !authorized(headers: headers, query: query) {
            return Self.text(.unauthorized, "a token is required: Authorization: Bearer <token>, or ?token=<token>\n",
                             extra: [("WWW-Authenticate", "Bearer realm=\"cctr-bridge\"")])
        }
        switch path {
        case "/": return Self.asset(StatusPage.html, "text/html; charset=utf-8")
        case "/app.js": return Self.asset(StatusPage.script, "text/javascript; charset=utf-8")
        case "/app.css": return Self.asset(StatusPage.style, "text/css; charset=utf-8")
        case "/api/bridge": return Self.json(api.bridge(now: now))
        case "/api/devices": return Self.json(api.devices(now: now))
        case "/api/deadletters": return Self.json(api.deadLetters(now: now))
        case "/api/commands": return Self.json(api.commands(now: now))
        default:
            let prefix = "/api/devices/"
            if path.hasPrefix(prefix), let body = api.device(String(path.dropFirst(prefix.count)), now: now) {
                return Self.json(body)
            }
            return Self.json(Array(#"{"error":"not found"}"#.utf8), status: .notFound)
        }
    }

    private func authorized(headers: HTTPHeaders, query: String) -> Bool {
        guard let token else { return true }
        var matched = false
        // The scheme is case-insensitive (RFC 9110).
        for value in headers["Authorization"] where value.prefix(7).lowercased() == "bearer " {
            matched = Self.constantTimeEqual(Array(value.utf8.dropFirst(7)), token) || matched
        }
        for pair in query.split(separator: "&") where pair.hasPrefix("token=") {
            if let given = Self.percentDecoded(pair.utf8.dropFirst(6)) {
                matched = Self.constantTimeEqual(given, token) || matched
            }
        }
        return matched
    }

    /// Compares every byte whatever the first difference, so the time taken does not tell
    /// how much of a guess was right (only whether its length was).
    static func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }

    /// `%XX` and `+` of a query value; nil for a malformed escape.
    static func percentDecoded(_ text: Substring.UTF8View) -> [UInt8]? {
        var out: [UInt8] = []
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                out.append(high << 4 | low)
            default: out.append(byte)
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func asset(_ text: String, _ contentType: String) -> Response {
        Response(status: .ok, contentType: contentType, body: Array(text.utf8), headers: securityHeaders)
    }

    private static func json(_ body: [UInt8], status: HTTPResponseStatus = .ok) -> Response {
        Response(status: status, contentType: "application/json", body: body, headers: securityHeaders)
    }

    private static func text(_ status: HTTPResponseStatus, _ text: String, extra: [(String, String)]) -> Response {
        Response(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8), headers: securityHeaders + extra)
    }
}
