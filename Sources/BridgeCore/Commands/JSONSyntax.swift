/// Finds where JSON text first goes wrong, for a `rejected` reason a controller's author
/// can act on ("expected ':' at byte 14"); Foundation's decoder only says that the data is
/// not valid, and accepts trailing commas. Nesting deeper than 64 levels is refused too,
/// since no command needs it. The JSON config file is checked the same way.
public enum JSONSyntax {
    /// The first problem as `"<what> at byte <offset>"` (0-based), or `nil` if none is found.
    static func firstError(in bytes: [UInt8]) -> String? {
        firstProblem(in: bytes).map { "\($0.what) at byte \($0.offset)" }
    }

    /// The first problem and its 0-based byte offset, or `nil` if the text is strict JSON.
    public static func firstProblem(in bytes: [UInt8]) -> (what: String, offset: Int)? {
        var scanner = Scanner(bytes: bytes)
        do throws(Problem) {
            scanner.skipSpace()
            try scanner.value(depth: 0)
            scanner.skipSpace()
            if scanner.index < bytes.count { throw Problem("unexpected content after the value", at: scanner.index) }
            return nil
        } catch {
            return (error.what, error.offset)
        }
    }

    private struct Problem: Error {
        let what: String
        let offset: Int
        init(_ what: String, at offset: Int) {
            self.what = what
            self.offset = offset
        }
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let c = current, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { index += 1 }
        }

        func unexpected() -> Problem {
            guard let c = current else { return Problem("unexpected end of input", at: index) }
            let shown = c >= 0x20 && c < 0x7F ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x" + String(c, radix: 16)
            return Problem("unexpected \(shown)", at: index)
        }

        mutating func expect(_ c: UInt8) throws(Problem) {
            skipSpace()
            guard current == c else {
                throw current == nil ? unexpected() : Problem("expected '\(Character(Unicode.Scalar(c)))'", at: index)
            }
            index += 1
        }

        mutating func value(depth: Int) throws(Problem) {
            skipSpace()
            guard depth < 64 else { throw Problem("nesting deeper than 64 levels", at: index) }
            guard let c = current else { throw unexpected() }
            switch c {
            case UInt8(ascii: "{"):
                index += 1
                skipSpace()
                if current == UInt8(ascii: "}") { index += 1; return }
                while true {
                    skipSpace()
                    guard current == UInt8(ascii: "\"") else { throw current == nil ? unexpected() : Problem("expected a string key", at: index) }
                    try string()
                    try expect(UInt8(ascii: ":"))
                    try value(depth: depth + 1)
                    skipSpace()
                    if current == UInt8(ascii: ",") { index += 1; continue }
                    try expect(UInt8(ascii: "}"))
                    return
                }
            case UInt8(ascii: "["):
                index += 1
                skipSpace()
                if current == UInt8(ascii: "]") { index += 1; return }
                while true {
                    try value(depth: depth + 1)
                    skipSpace()
                    if current == UInt8(ascii: ",") { index += 1; continue }
                    try expect(UInt8(ascii: "]"))
                    return
                }
            case UInt8(ascii: "\""):
                try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try number()
            default:
                throw unexpected()
            }
        }

        mutating func literal(_ word: String) throws(Problem) {
            for expected in word.utf8 {
                guard current == expected else { throw unexpected() }
                index += 1
            }
        }

        mutating func string() throws(Problem) {
            index += 1
            while let c = current {
                switch c {
                case UInt8(ascii: "\""):
                    index += 1
                    return
                case UInt8(ascii: "\\"):
                    index += 1
                    guard let e = current else { throw unexpected() }
                    if e == UInt8(ascii: "u") {
                        for _ in 0..<4 {
                            index += 1
                            guard let h = current, h.isHexDigit else { throw Problem("bad \\u escape", at: index) }
                        }
                    } else if !"\"\\/bfnrt".utf8.contains(e) {
                        throw Problem("bad escape", at: index)
                    }
                    index += 1
                case 0..<0x20:
                    throw Problem("control character in a string", at: index)
                default:
                    index += 1
                }
            }
            throw unexpected()
        }

        mutating func number() throws(Problem) {
            if current == UInt8(ascii: "-") { index += 1 }
            guard let first = current, first.isDigit else { throw unexpected() }
            index += 1
            if first != UInt8(ascii: "0") { while current?.isDigit == true { index += 1 } }
            if current == UInt8(ascii: ".") {
                index += 1
                guard current?.isDigit == true else { throw unexpected() }
                while current?.isDigit == true { index += 1 }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard current?.isDigit == true else { throw unexpected() }
                while current?.isDigit == true { index += 1 }
            }
        }
    }
}

extension UInt8 {
    fileprivate var isDigit: Bool { self >= 0x30 && self <= 0x39 }
    fileprivate var isHexDigit: Bool { isDigit || (self | 0x20 >= 0x61 && self | 0x20 <= 0x66) }
}
