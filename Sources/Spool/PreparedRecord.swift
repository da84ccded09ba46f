/// A record whose size was checked and whose checksum was computed before appending
/// (`Spool.prepare`). The publish pipeline prepares on the device event loops and appends
/// under its ingress lock, which both loops take: the lock is then held for the append alone,
/// not for the checksum over the whole record.
public struct PreparedRecord: Sendable {
    let bytes: [UInt8]
    let crc: UInt32
}
