@testable import Mosquitto
import Testing

@Suite("ReconnectBackoff")
struct ReconnectBackoffTests {
    typealias Backoff = MosquittoClient.Configuration.ReconnectBackoff

    @Test func doublesFromTheMinimumUpToTheMaximum() {
        let backoff = Backoff(minimum: .milliseconds(100), maximum: .seconds(1))
        let longest = (0..<8).map { backoff.delay(afterAttempt: $0, unit: 1) }
        #expect(longest == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
                            .seconds(1), .seconds(1), .seconds(1), .seconds(1)])
        #expect(backoff.delay(afterAttempt: 1_000, unit: 1) == .seconds(1))
    }

    @Test func jitterKeepsBetweenHalfAndAllOfTheDelay() {
        let backoff = Backoff(minimum: .milliseconds(100), maximum: .seconds(1))
        #expect(backoff.delay(afterAttempt: 2, unit: 0) == .milliseconds(200))
        for _ in 0..<100 {
            let delay = backoff.delay(afterAttempt: 3)
            #expect(delay >= .milliseconds(400) && delay <= .milliseconds(800))
        }
    }

    @Test func maximumIsNeverBelowMinimum() {
        #expect(Backoff(minimum: .seconds(2), maximum: .seconds(1)).maximum == .seconds(2))
    }
}
