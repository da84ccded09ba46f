import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension Process {
    /// `run()` with no signals blocked in the child.
    ///
    /// A child inherits the signal mask of the spawning thread, and Swift concurrency's worker
    /// threads block signals: a `mosquitto` started from a test would ignore SIGTERM, and
    /// `stop()` would wait for ever. The mask is cleared only around the spawn.
    public func runWithDefaultSignalMask() throws {
        var empty = sigset_t()
        var previous = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        try run()
    }
}
