import Foundation

/// Sizes and ages written as the Docker CLI writes them (go-units'
/// `HumanSize` and `HumanDuration`), so `berth history` and `docker history`
/// read the same.
public enum DockerUnits {
    /// Decimal units, four significant digits: `0B`, `999B`, `1.234kB`, `8.225MB`.
    public static func size(_ bytes: Int) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
        var value = Double(bytes)
        var i = 0
        while value >= 1000 && i < units.count - 1 {
            value /= 1000
            i += 1
        }
        return String(format: "%.4g", value) + units[i]
    }

    /// `Less than a second`, `5 seconds`, `About a minute`, `3 hours`, `2 weeks`...
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        if s < 1 { return "Less than a second" }
        if s == 1 { return "1 second" }
        if s < 60 { return "\(s) seconds" }
        let minutes = s / 60
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = Int(seconds / 3600 + 0.5)  // go-units rounds hours to the nearest
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
        if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
        return "\(hours / 24 / 365) years"
    }

    /// How long ago an RFC 3339 time was (`2 minutes ago`), or nil when it does not parse.
    public static func ago(_ rfc3339: String, now: Date = Date()) -> String? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        var date = f.date(from: rfc3339)
        if date == nil {
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            date = f.date(from: rfc3339)
        }
        guard let date else { return nil }
        return duration(now.timeIntervalSince(date)) + " ago"
    }
}
