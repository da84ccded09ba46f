import Foundation

/// A plausible drive around a real city: parked spells, accelerating and braking, gentle
/// course changes and the odd turn, always turning back before it strays far from home.
struct Route {
    /// Starting places in both hemispheres, ordered so that the first three devices already
    /// cover north, south, east and west.
    static let cities: [(name: String, latitude: Double, longitude: Double)] = [
        ("Lima", -12.0464, -77.0428),
        ("Warsaw", 52.2297, 21.0122),
        ("Sydney", -33.8688, 151.2093),
        ("Chongqing", 29.5630, 106.5516),
        ("São Paulo", -23.5505, -46.6333),
        ("Mexico City", 19.4326, -99.1332),
    ]

    private enum Phase {
        case parked(remainingSeconds: Double)
        case driving(remainingSeconds: Double, targetKmh: Double)
    }

    private static let maximumStepSeconds = 5.0
    private static let maximumAdvanceSeconds = 300.0
    private static let homeRadiusDegrees = 0.25
    private static let kilometresPerDegree = 111.32

    private(set) var latitude: Double
    private(set) var longitude: Double
    private(set) var speedKmh: Double = 0
    private(set) var course: Double
    private let homeLatitude: Double
    private let homeLongitude: Double
    private var phase: Phase

    /// A route near city number `cityIndex` (modulo the list), starting at a random spot.
    init(cityIndex: Int, random: inout SimRandom) {
        let city = Self.cities[cityIndex % Self.cities.count]
        homeLatitude = city.latitude
        homeLongitude = city.longitude
        latitude = city.latitude + random.uniform(-0.05...0.05)
        longitude = city.longitude + random.uniform(-0.05...0.05)
        course = random.uniform(0...359.99)
        phase = random.chance(0.3)
            ? .parked(remainingSeconds: random.uniform(5...120))
            : .driving(remainingSeconds: random.uniform(60...600), targetKmh: random.uniform(20...90))
    }

    /// Moves the vehicle on by `seconds` (capped, so a long gap does not teleport it).
    mutating func advance(seconds: Double, random: inout SimRandom) {
        var left = min(max(seconds, 0), Self.maximumAdvanceSeconds)
        while left > 0 {
            let step = min(left, Self.maximumStepSeconds)
            self.step(seconds: step, random: &random)
            left -= step
        }
    }

    private mutating func step(seconds: Double, random: inout SimRandom) {
        switch phase {
        case .parked(let remaining):
            speedKmh = 0
            phase = remaining > seconds
                ? .parked(remainingSeconds: remaining - seconds)
                : .driving(remainingSeconds: random.uniform(60...900), targetKmh: random.uniform(20...90))
        case .driving(let remaining, var target):
            if random.chance(0.02 * seconds) { target = random.uniform(15...110) }
            let maximumChange = 7.0 * seconds
            speedKmh += min(max(target - speedKmh, -maximumChange), maximumChange) + random.uniform(-1.5...1.5)
            speedKmh = max(speedKmh, 0)
            course += random.uniform(-3...3) * seconds
            if random.chance(0.01 * seconds) { course += random.chance(0.5) ? 90 : -90 }
            if remaining > seconds {
                phase = .driving(remainingSeconds: remaining - seconds, targetKmh: target)
            } else {
                phase = .parked(remainingSeconds: random.uniform(10...300))
            }
        }
        turnHomeIfStraying()
        course = course.truncatingRemainder(dividingBy: 360)
        if course < 0 { course += 360 }
        move(kilometres: speedKmh * seconds / 3600)
    }

    private mutating func turnHomeIfStraying() {
        let north = homeLatitude - latitude
        let east = (homeLongitude - longitude) * cos(latitude * .pi / 180)
        guard (north * north + east * east).squareRoot() > Self.homeRadiusDegrees else { return }
        course = atan2(east, north) * 180 / .pi
    }

    private mutating func move(kilometres: Double) {
        let radians = course * .pi / 180
        latitude += kilometres * cos(radians) / Self.kilometresPerDegree
        let metresScale = max(cos(latitude * .pi / 180), 0.01)
        longitude += kilometres * sin(radians) / (Self.kilometresPerDegree * metresScale)
        latitude = min(max(latitude, -89.9), 89.9)
        if longitude > 180 { longitude -= 360 }
        if longitude < -180 { longitude += 360 }
    }
}
