#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Logging
import Synchronization

/// The state shared by a `Spool` and its flusher thread. Separate from `Spool` so that the
/// thread does not keep the public object alive: dropping the last `Spool` reference stops
/// the flusher.
final class SpoolCore: Sendable {
    let state: Mutex<SpoolState>
    /// Wakes the flusher thread when work arrives while it sleeps.
    let wakeup = DispatchSemaphore(value: 0)
    let logger: Logger

    init(state: sending SpoolState, logger: Logger) {
        self.state = Mutex(state)
        self.logger = logger
    }

    func withState<Result: Sendable>(_ body: (inout SpoolState, inout SpoolEffects) -> Result) -> Result {
        var effects = SpoolEffects()
        let result = state.withLock { state in
            body(&state, &effects)
        }
        perform(effects)
        return result
    }

    /// Carries out effects collected under the lock; never called with the lock held.
    func perform(_ effects: SpoolEffects) {
        if effects.wakeFlusher {
            wakeup.signal()
        }
        for continuation in effects.consumers {
            continuation.resume()
        }
        for (continuation, result) in effects.appends {
            continuation.resume(with: result)
        }
        for event in effects.logs {
            switch event {
            case .droppingStarted(let bytes, let maxBytes):
                logger.warning(
                    "spool full, dropping the oldest records",
                    metadata: ["spool.bytes": "\(bytes)", "spool.max_bytes": "\(maxBytes)"]
                )
            case .droppingStopped(let dropped):
                logger.info("spool stopped dropping records", metadata: ["spool.dropped": "\(dropped)"])
            case .readFailed(let error):
                logger.error("cannot read spool segment, skipping the rest of it", metadata: ["error": "\(error)"])
            case .diskRefused(let error, let memoryBytes, let policy):
                logger.warning("\(Self.diskProblem(error)): \(memoryBytes) bytes of records are held in memory only and lost if the bridge dies; \(Self.consequence(of: policy))", metadata: [
                    "error": "\(error)", "spool.memory_bytes": "\(memoryBytes)", "spool.full_policy": "\(policy.rawValue)",
                ])
            case .diskRecovered(let memoryBytes, let dropped):
                logger.info("spool writing recovered: records are durable again", metadata: [
                    "spool.memory_bytes": "\(memoryBytes)", "spool.dropped": "\(dropped)",
                ])
            }
        }
    }

    /// ENOSPC and EDQUOT are a full disk; any other write error is named as such, with the
    /// same consequences (the records cannot be made durable).
    private static func diskProblem(_ error: SpoolError) -> String {
        if case .io(_, _, let errno) = error, errno == ENOSPC || errno == EDQUOT {
            return "spool disk full"
        }
        return "spool disk writes failing"
    }

    private static func consequence(of policy: SpoolConfiguration.FullPolicy) -> String {
        switch policy {
        case .block: "--spool-full block pauses reading from devices until writing recovers"
        case .dropOldest: "--spool-full drop-oldest drops the oldest records to make room (cctr_spool_dropped_total)"
        }
    }
}
