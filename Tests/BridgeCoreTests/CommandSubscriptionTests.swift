import BridgeCore
import Testing

@Suite struct CommandSubscriptionTests {
    let shared = "$share/cctr-bridge/cctr/+/cmd"

    @Test func mqtt5WithSharedSubscriptionsShares() {
        var subscription = CommandSubscription(base: "cctr", shareGroup: "cctr-bridge")
        let actions = subscription.connected(mqtt5: true, sharedSubscriptionAvailable: true)
        #expect(actions == [.subscribe(shared)])
        #expect(subscription.mode == .shared)
        #expect(subscription.description == "command routing: shared (\(shared))")
    }

    @Test(arguments: [
        (true, false, "no $share: the broker's CONNACK says Shared Subscription Available = 0"),
        (false, true, "no $share: MQTT 3.1.1"),
    ])
    func brokersWithoutSharedSubscriptionsBroadcast(mqtt5: Bool, available: Bool, reason: String) {
        var subscription = CommandSubscription(base: "cctr", shareGroup: "cctr-bridge")
        let actions = subscription.connected(mqtt5: mqtt5, sharedSubscriptionAvailable: available)
        #expect(actions == [.subscribe("cctr/+/cmd")])
        #expect(subscription.mode == .broadcast)
        #expect(subscription.description == "command routing: broadcast (\(reason))")
    }

    @Test func anEmptyShareGroupBroadcasts() {
        var subscription = CommandSubscription(base: "fleet/eu", shareGroup: "")
        let actions = subscription.connected(mqtt5: true, sharedSubscriptionAvailable: true)
        #expect(actions == [.subscribe("fleet/eu/+/cmd")])
        #expect(subscription.description == "command routing: broadcast (--share-group is empty)")
    }

    /// A broker that refuses `$share` (SUBACK 0x9E, or closing the connection as ejabberd
    /// does) is remembered: the shared filter is dropped, so a reconnect does not send it
    /// again, and every later connection broadcasts.
    @Test func aRefusalFallsBackForGood() {
        var subscription = CommandSubscription(base: "cctr", shareGroup: "cctr-bridge")
        _ = subscription.connected(mqtt5: true, sharedSubscriptionAvailable: true)
        let fallback = subscription.sharedRefused("the broker closed the connection after the $share SUBSCRIBE")
        #expect(fallback == [.unsubscribe(shared), .subscribe("cctr/+/cmd")])
        #expect(subscription.mode == .broadcast)
        let reconnect = subscription.connected(mqtt5: true, sharedSubscriptionAvailable: true)
        #expect(reconnect == [.subscribe("cctr/+/cmd")])
        #expect(subscription.description
            == "command routing: broadcast (no $share: the broker closed the connection after the $share SUBSCRIBE)")
    }
}
