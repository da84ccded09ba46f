/// Polls `condition` until it holds or `timeout` passes; true when it held (checked once more
/// at the deadline). Tests wait with it for the state they expect, instead of sleeping a fixed
/// time and hoping the state has come by then: fast when the machine is quiet, and still
/// correct when it is loaded.
public func eventually(
    timeout: Duration = .seconds(10), every interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}
