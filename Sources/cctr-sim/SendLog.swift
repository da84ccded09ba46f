import Foundation
import Synchronization

/// `--send-log`: one line `device_id seq unix_time_ns` per frame that carries a sequence
/// number, written once its send succeeded, with the time the send was issued. A measuring
/// subscriber joins these lines on (device id, odometer) to compute latency and loss.
///
/// Lines are buffered and written in blocks, since a load run logs ~20,000 lines a second.
final class SendLog: Sendable {
    private static let flushThreshold = 1 << 16

    private let handle: FileHandle
    private let buffer = Mutex([UInt8]())

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    func append(deviceID: String, sequence: UInt64, unixNanoseconds: Int64) {
        let line = "\(deviceID) \(sequence) \(unixNanoseconds)\n"
        buffer.withLock { bytes in
            bytes.append(contentsOf: line.utf8)
            if bytes.count >= Self.flushThreshold {
                handle.write(Data(bytes))
                bytes.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Writes what is buffered and closes the file.
    func close() throws {
        try buffer.withLock { bytes in
            handle.write(Data(bytes))
            bytes.removeAll()
            try handle.close()
        }
    }
}
