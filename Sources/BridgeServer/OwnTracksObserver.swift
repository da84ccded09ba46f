import BridgeCore

/// `--owntracks-base`: mirrors every retained position (a valid fix not older than the
/// retained one) as an OwnTracks location on `<owntracks-base>/<id>`, retained.
///
/// It follows the published position messages, not the frames: their `retain` flag is the
/// verdict of the pipeline's shared `RetainedPositions`, so the OwnTracks topic can never
/// hold an older fix than the position topic, and frames held before the login count too.
struct OwnTracksObserver: DeviceTrafficObserver {
    let base: String

    var subscriptions: [String] { [] }

    var interests: DeviceTrafficEvent.Kinds { .published }

    func observe(_ event: DeviceTrafficEvent, hub: DeviceHub) -> [OutboundMessage] {
        guard case .published(let message) = event, message.kind == .position, message.retain,
            let deviceID = message.deviceID, let location = OwnTracksLocation(positionPayload: message.payload)
        else { return [] }
        return [location.message(base: base, deviceID: deviceID)]
    }
}
