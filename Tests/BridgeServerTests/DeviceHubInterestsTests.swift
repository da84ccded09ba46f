import BridgeCore
import Synchronization
import Testing
@testable import BridgeServer

/// The hub sends an observer only the events it names in `interests`.
@Suite struct DeviceHubInterestsTests {
    final class Recorder: DeviceTrafficObserver {
        let interests: DeviceTrafficEvent.Kinds
        let seen = Mutex<[DeviceTrafficEvent.Kinds]>([])

        init(_ interests: DeviceTrafficEvent.Kinds) {
            self.interests = interests
        }

        var subscriptions: [String] { [] }

        func observe(_ event: DeviceTrafficEvent, hub: DeviceHub) -> [OutboundMessage] {
            seen.withLock { $0.append(event.kind) }
            return []
        }

        var kinds: [DeviceTrafficEvent.Kinds] { seen.withLock { $0 } }
    }

    @Test func anObserverGetsOnlyTheEventsItWants() throws {
        let harness = try HubHarness()
        let ticks = Recorder(.tick)
        let everything = Recorder(.all)
        harness.hub.addObserver(ticks)
        harness.hub.addObserver(everything)
        harness.hub.notify(.brokerConnected(routing: .broadcast, now: 1))
        harness.hub.notify(.tick(now: 2))
        harness.hub.notify(.offline(deviceID: "CC8011400042499", now: 3))
        #expect(ticks.kinds == [.tick])
        #expect(everything.kinds == [.brokerConnected, .tick, .offline])
    }

    /// The observers that the bridge always runs (commands, forget) want no `.published`
    /// event, so the hub sends none for the messages of every frame.
    @Test func theDefaultObserversWantNoPublishedEvents() throws {
        let options = BridgeOptions.defaults
        let topics = try TopicLayout(base: options.topicBase, instance: options.instance)
        let observers = try BridgeFeatures.observers(
            options: options, topics: topics, retained: RetainedPositions(), logger: .init(label: "test")
        )
        let wanted = observers.reduce(DeviceTrafficEvent.Kinds()) { $0.union($1.interests) }
        #expect(!wanted.contains(.published))
        #expect(wanted.contains(.frame))
        #expect(wanted.isSuperset(of: [.brokerConnected, .claimedElsewhere]), "command routing learns its mode and hands over queues")
    }
}
