import BridgeServer
import Glibc
import Spool
import Testing

/// Start-up errors that a test cannot provoke as root (permissions, read-only file systems,
/// a second bridge on the spool): each reads as one line with the option and the fix.
@Suite struct StartupErrorTests {
    @Test(arguments: [
        (SpoolError.io(operation: "open", path: "/srv/spool/lock", errno: EACCES),
         "--spool-dir /srv/spool: permission denied (open /srv/spool/lock) for user id \(getuid()): make the directory writable by this user, or choose another --spool-dir"),
        (SpoolError.io(operation: "mkdir", path: "/srv/spool", errno: EROFS),
         "--spool-dir /srv/spool: /srv/spool is on a read-only file system: choose another --spool-dir on a writable volume"),
        (SpoolError.io(operation: "open", path: "/srv/spool/ack", errno: ENOSPC),
         "--spool-dir /srv/spool: the disk is full (open /srv/spool/ack): free space, or choose another --spool-dir"),
        (SpoolError.directoryLocked(path: "/srv/spool/lock"),
         "--spool-dir /srv/spool is in use by another cctr-bridge (it holds /srv/spool/lock): stop it, or give each instance its own --spool-dir"),
    ])
    func spoolErrorsSayWhatToDo(_ error: SpoolError, _ expected: String) {
        #expect(StartupError.spool(error, directory: "/srv/spool").description == expected)
    }
}
