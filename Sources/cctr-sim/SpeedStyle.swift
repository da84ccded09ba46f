/// How a unit writes its 5-character speed field. Real units differ (`000.4`, `15.50`,
/// `0.000`), and a decoder must accept every width, so each simulated device keeps one style.
enum SpeedStyle: CaseIterable, Sendable {
    /// `ddd.d`
    case oneDecimal
    /// `dd.dd`, widened to `ddd.d` at 100 km/h and more.
    case twoDecimals
    /// `d.ddd`, widened to `dd.dd` (or `ddd.d`) at 10 km/h and more.
    case threeDecimals

    /// The 5-character field for `kmh`, clamped to 0 ... 999.9.
    func field(_ kmh: Double) -> String {
        let speed = min(max(kmh, 0), 999.9)
        let decimals: Int
        switch self {
        case .oneDecimal: decimals = 1
        case .twoDecimals: decimals = speed < 99.995 ? 2 : 1
        case .threeDecimals: decimals = speed < 9.9995 ? 3 : (speed < 99.995 ? 2 : 1)
        }
        return Self.fixed(speed, decimals: decimals, integerDigits: 4 - decimals)
    }

    private static func fixed(_ value: Double, decimals: Int, integerDigits: Int) -> String {
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int((value * Double(scale)).rounded())
        return zeroPadded(scaled / scale, width: integerDigits) + "." + zeroPadded(scaled % scale, width: decimals)
    }
}

/// `value` in decimal with leading zeros up to `width` digits (never truncated).
func zeroPadded(_ value: some BinaryInteger, width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
