import Dispatch
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ends a live run once: at `--duration`, or at SIGINT/SIGTERM, whichever comes first.
final class StopSignal: Sendable {
    private let promise: EventLoopPromise<Void>
    private let fired = Atomic(false)

    init(eventLoop: any EventLoop) {
        promise = eventLoop.makePromise()
    }

    func fire() {
        if !fired.exchange(true, ordering: .acquiringAndReleasing) {
            promise.succeed()
        }
    }

    func wait() async throws {
        try await promise.futureResult.get()
    }

    /// Fires on SIGINT and SIGTERM instead of letting them kill the process; keep the
    /// returned sources alive for as long as the signals should be caught.
    func fireOnTerminationSignals() -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { self.fire() }
            source.resume()
            return source
        }
    }
}
