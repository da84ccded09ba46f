#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Spool

/// A reason the bridge cannot start, worded for the operator: one line with what went wrong,
/// the option it concerns and the fix. A system call's name and errno alone leave a
/// newcomer guessing which setting to change.
public struct StartupError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }

    /// A listener that cannot bind. `option` is the flag the address came from (`listen`,
    /// `metrics-listen`); `address` as the operator wrote it.
    public static func bind(_ error: any Error, option: String, address: String) -> StartupError {
        let subject = "--\(option) \(address)"
        guard let code = (error as? IOError)?.errnoCode else {
            return StartupError("\(subject): cannot listen: \(error)")
        }
        return switch code {
        case EADDRINUSE:
            StartupError("\(subject): the address is already in use (another process, perhaps another cctr-bridge, holds it): stop that process or choose another port with --\(option)")
        case EACCES:
            StartupError("\(subject): permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port above 1023 with --\(option)")
        case EADDRNOTAVAIL:
            StartupError("\(subject): no network interface of this host has that address: use 0.0.0.0, [::] or one of this host's addresses in --\(option)")
        default:
            StartupError("\(subject): cannot listen: \(Self.text(of: code)): fix or change --\(option)")
        }
    }

    /// A spool directory that cannot be opened.
    public static func spool(_ error: SpoolError, directory: String) -> StartupError {
        let subject = "--spool-dir \(directory)"
        let fix = "choose another --spool-dir"
        switch error {
        case .directoryLocked(let path):
            return StartupError("\(subject) is in use by another cctr-bridge (it holds \(path)): stop it, or give each instance its own --spool-dir")
        case .io(let operation, let path, let code):
            return switch code {
            case EACCES, EPERM:
                StartupError("\(subject): permission denied (\(operation) \(path)) for user id \(getuid()): make the directory writable by this user, or \(fix)")
            case EROFS:
                StartupError("\(subject): \(path) is on a read-only file system: \(fix) on a writable volume")
            case ENOSPC, EDQUOT:
                StartupError("\(subject): the disk is full (\(operation) \(path)): free space, or \(fix)")
            case ENOTDIR:
                StartupError("\(subject): a part of \(path) is a file, not a directory: \(fix)")
            default:
                StartupError("\(subject): cannot \(operation) \(path): \(Self.text(of: code)): \(fix)")
            }
        case .closed, .recordTooLarge:
            return StartupError("\(subject): \(error)")
        }
    }

    private static func text(of code: Int32) -> String {
        String(cString: strerror(code))
    }
}
