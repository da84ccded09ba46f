/// One GPS reading as a tracker reports it.
struct GPSFix: Equatable {
    /// Fix time, Unix seconds (UTC).
    var unixSeconds: Int64
    /// Decimal degrees, negative south.
    var latitude: Double
    /// Decimal degrees, negative west.
    var longitude: Double
    var speedKmh: Double
    /// Degrees clockwise from north, 0 ..< 360.
    var course: Double
}
