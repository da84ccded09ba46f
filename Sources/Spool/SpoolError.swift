/// Why a spool operation failed.
public enum SpoolError: Error, Equatable, Sendable {
    /// The spool was closed; nothing more is accepted.
    case closed
    /// The record can never fit: larger than the byte cap or the framing limit.
    case recordTooLarge(size: Int, limit: Int)
    /// Another spool (usually another process) holds the directory's lock file.
    case directoryLocked(path: String)
    /// A system call failed; `errno` is the C error number.
    case io(operation: String, path: String, errno: Int32)
}
