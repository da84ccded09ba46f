#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A fix in OwnTracks' `location` format, retained on `<owntracks-base>/<id>` so OwnTracks
/// apps and the Recorder show trackers beside people.
///
/// Built from the bridge's own position payload rather than from the frame: the payload
/// already carries the contract's time rules (`fix_time`), the speed unit conversion and the
/// rounding, and positions of frames held before the login reach observers only as published
/// messages. Which positions qualify (valid, not older than the retained one) is decided by
/// the caller from the position message's `retain` flag, which `RetainedPositions` set.
public struct OwnTracksLocation: Sendable, Equatable {
    public var latitude: Double
    public var longitude: Double
    /// `fix_time`, seconds since the Unix epoch.
    public var timestamp: Int64
    /// Tracker id: the last 2 characters of the device id.
    public var trackerID: String
    /// km/h, rounded.
    public var velocity: Int64
    /// Degrees, rounded (359.5 and above give 360, which OwnTracks accepts).
    public var course: Int64

    public init(latitude: Double, longitude: Double, timestamp: Int64, trackerID: String, velocity: Int64, course: Int64) {
        self.latitude = latitude
        self.longitude = longitude
        self.timestamp = timestamp
        self.trackerID = trackerID
        self.velocity = velocity
        self.course = course
    }

    /// The location of a position payload (`<base>/<id>/position`), or `nil` when it is not a
    /// valid fix with coordinates and a fix time.
    public init?(positionPayload payload: [UInt8]) {
        guard let position = try? JSONDecoder().decode(Position.self, from: Data(payload)),
            position.valid, let latitude = position.latitude, let longitude = position.longitude,
            let fixTime = ISOTimestamp.parseMilliseconds(position.fixTime)
        else { return nil }
        self.init(
            latitude: latitude, longitude: longitude, timestamp: fixTime / 1000,
            trackerID: String(position.deviceID.suffix(2)),
            velocity: Int64(max(0, position.speed ?? 0).rounded()),
            course: Int64(min(360, max(0, position.course ?? 0)).rounded())
        )
    }

    public static func topic(base: String, deviceID: String) -> String {
        "\(base)/\(deviceID)"
    }

    /// The retained QoS 1 message for `deviceID` under `base`.
    public func message(base: String, deviceID: String) -> OutboundMessage {
        OutboundMessage(
            topic: Self.topic(base: base, deviceID: deviceID), payload: payload, qos: 1, retain: true,
            kind: .ownTracks, deviceID: deviceID
        )
    }

    public var payload: [UInt8] {
        var w = JSONWriter(capacity: 128)
        w.beginObject()
        w.key("_type")
        w.string("location")
        w.key("lat")
        w.number(latitude, decimals: 6)
        w.key("lon")
        w.number(longitude, decimals: 6)
        w.key("tst")
        w.integer(timestamp)
        w.key("tid")
        w.string(trackerID)
        w.key("vel")
        w.integer(velocity)
        w.key("cog")
        w.integer(course)
        w.endObject()
        return w.bytes
    }

    /// The fields of the contract's position payload this format needs.
    private struct Position: Decodable {
        var deviceID: String
        var fixTime: String
        var valid: Bool
        var latitude: Double?
        var longitude: Double?
        var speed: Double?
        var course: Double?

        enum CodingKeys: String, CodingKey {
            case deviceID = "device_id", fixTime = "fix_time", valid, latitude, longitude, speed = "speed_kmh", course
        }
    }
}
