#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin throwing wrappers over the file system calls the spool needs, retrying `EINTR` and
/// short writes, so the rest of the module reads as plain Swift.
enum POSIXFile {
    static func open(_ path: String, flags: Int32, mode: mode_t = 0o644) throws(SpoolError) -> Int32 {
        while true {
            let descriptor = path.withCString { systemOpen($0, flags | O_CLOEXEC, mode) }
            if descriptor >= 0 { return descriptor }
            if errno != EINTR { throw .io(operation: "open", path: path, errno: errno) }
        }
    }

    static func openForReading(_ path: String) throws(SpoolError) -> Int32 {
        try open(path, flags: O_RDONLY)
    }

    static func openForAppending(_ path: String) throws(SpoolError) -> Int32 {
        try open(path, flags: O_WRONLY | O_CREAT | O_APPEND)
    }

    /// Opens an existing file to sync it; `nil` when it is gone.
    static func openExisting(_ path: String) -> Int32? {
        try? open(path, flags: O_WRONLY)
    }

    static func openForUpdate(_ path: String) throws(SpoolError) -> Int32 {
        try open(path, flags: O_RDWR | O_CREAT)
    }

    static func openDirectory(_ path: String) throws(SpoolError) -> Int32 {
        try open(path, flags: O_RDONLY | O_DIRECTORY)
    }

    static func close(_ descriptor: Int32) {
        _ = systemClose(descriptor)
    }

    /// Writes all of `bytes[from...]`; on failure, `from` tells how far it got. `path` names
    /// the file in the error only: an autoclosure, because the flusher derives it from the
    /// segment number, which cost more than the write call itself at low rates.
    static func writeAll(
        _ descriptor: Int32, _ bytes: [UInt8], from: inout Int, path: @autoclosure () -> String
    ) throws(SpoolError) {
        while from < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                systemWrite(descriptor, buffer.baseAddress! + from, buffer.count - from)
            }
            if written > 0 {
                from += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                throw .io(operation: "write", path: path(), errno: written < 0 ? errno : EIO)
            }
        }
    }

    /// Writes a small buffer at an offset (the acknowledgement slots).
    static func writeAt(_ descriptor: Int32, _ bytes: [UInt8], offset: Int, path: String) throws(SpoolError) {
        var done = 0
        while done < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                pwrite(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            }
            if written > 0 {
                done += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                throw .io(operation: "pwrite", path: path, errno: written < 0 ? errno : EIO)
            }
        }
    }

    /// Reads up to `count` bytes at `offset` into `buffer` (resized); fewer only at end of file.
    static func read(_ descriptor: Int32, offset: Int, count: Int, into buffer: inout [UInt8], path: String) throws(SpoolError) {
        var failure: Int32 = 0
        buffer = [UInt8](unsafeUninitializedCapacity: count) { storage, initialized in
            initialized = 0
            while initialized < count {
                let result = pread(descriptor, storage.baseAddress! + initialized, count - initialized, off_t(offset + initialized))
                if result > 0 {
                    initialized += result
                } else if result == 0 {
                    return
                } else if errno != EINTR {
                    failure = errno
                    return
                }
            }
        }
        if failure != 0 {
            throw .io(operation: "pread", path: path, errno: failure)
        }
    }

    static func readWholeFile(_ path: String) throws(SpoolError) -> [UInt8] {
        let descriptor = try open(path, flags: O_RDONLY)
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw .io(operation: "fstat", path: path, errno: errno)
        }
        var bytes: [UInt8] = []
        try read(descriptor, offset: 0, count: Int(status.st_size), into: &bytes, path: path)
        return bytes
    }

    /// `path` is for the error only, as in `writeAll`.
    static func dataSync(_ descriptor: Int32, path: @autoclosure () -> String) throws(SpoolError) {
        #if os(Linux)
        let result = fdatasync(descriptor)
        #else
        let result = fsync(descriptor)
        #endif
        if result != 0 {
            throw .io(operation: "fdatasync", path: path(), errno: errno)
        }
    }

    /// `fsync`, needed on the directory itself to make a new file's name durable.
    static func fullSync(_ descriptor: Int32, path: String) throws(SpoolError) {
        if fsync(descriptor) != 0 {
            throw .io(operation: "fsync", path: path, errno: errno)
        }
    }

    /// `mkdir -p`: creates `path` and its missing parents. The first failing `mkdir` is
    /// thrown with its errno (`EACCES`, `EROFS`, `ENOTDIR`, ...), so the operator learns why
    /// rather than a later "no such file" from opening a file inside.
    static func makeDirectories(_ path: String) throws(SpoolError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            var status = stat()
            if stat(prefix, &status) == 0, status.st_mode & S_IFMT == S_IFDIR { continue }
            if mkdir(prefix, 0o755) != 0, errno != EEXIST {
                throw .io(operation: "mkdir", path: prefix, errno: errno)
            }
        }
    }

    static func unlink(_ path: String) throws(SpoolError) {
        if systemUnlink(path) != 0 && errno != ENOENT {
            throw .io(operation: "unlink", path: path, errno: errno)
        }
    }

    /// Takes an exclusive advisory lock, failing at once if another holder has it.
    static func lockExclusively(_ descriptor: Int32, path: String) throws(SpoolError) {
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK {
                throw .directoryLocked(path: path)
            }
            throw .io(operation: "flock", path: path, errno: errno)
        }
    }
}

private func systemOpen(_ path: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}

private func systemClose(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}

private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

private func systemUnlink(_ path: String) -> Int32 {
    unlink(path)
}
