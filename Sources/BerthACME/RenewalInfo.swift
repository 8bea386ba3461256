import CBerthCrypto
import Foundation

/// ACME Renewal Information (RFC 9773): when the CA would like a
/// certificate renewed. A CA that offers it (its directory names
/// `renewalInfo`) can move a renewal earlier (a revocation coming, a
/// mis-issuance) or spread its subscribers' renewals; without it berth
/// renews two thirds into a certificate's life.
public struct RenewalInfo: Sendable, Equatable {
    /// The suggested window.
    public var start: Date
    public var end: Date
    /// When to ask again: the CA's Retry-After, kept within a minute and a
    /// day (six hours when it sends none).
    public var checkAgain: Date
    /// A page that says why the window moved, if the CA gave one.
    public var explanationURL: String?

    public init(start: Date, end: Date, checkAgain: Date, explanationURL: String? = nil) {
        self.start = start
        self.end = end
        self.checkAgain = checkAgain
        self.explanationURL = explanationURL
    }

    /// A moment drawn uniformly from the window (so a CA's subscribers do
    /// not all come at once); now when the window has already ended.
    public func renewalTime(now: Date = Date(), unit: Double = Double.random(in: 0..<1)) -> Date {
        if end <= now { return now }
        let from = max(start, now)
        return from.addingTimeInterval(end.timeIntervalSince(from) * unit)
    }

    /// Reads a renewalInfo answer (`{"suggestedWindow": {"start", "end"}}`).
    public static func parse(_ body: Data, retryAfter: String?, now: Date = Date()) throws -> RenewalInfo {
        guard let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any],
              let window = json["suggestedWindow"] as? [String: Any],
              let start = (window["start"] as? String).flatMap(Self.date), let end = (window["end"] as? String).flatMap(Self.date) else {
            throw ACMEError("renewal information: no suggestedWindow with a start and an end in \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        guard start < end else { throw ACMEError("renewal information: the window ends before it starts") }
        let wait = retryAfter.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) } ?? 6 * 3600
        return RenewalInfo(start: start, end: end, checkAgain: now.addingTimeInterval(min(max(wait, 60), 86_400)),
                           explanationURL: json["explanationURL"] as? String)
    }

    /// RFC 3339, with or without fractional seconds.
    static func date(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }

    /// The id a CA knows a certificate by (RFC 9773 §4.1):
    /// base64url(the authority key identifier's keyIdentifier) "."
    /// base64url(the serial number's DER content octets). nil for a
    /// certificate without an authority key identifier.
    public static func certificateID(ofPEM pem: String) -> String? {
        var aki = [UInt8](repeating: 0, count: 64), serial = [UInt8](repeating: 0, count: 64)
        var akiLength: Int32 = 0, serialLength: Int32 = 0
        guard cberth_cert_ari_parts(pem, &aki, Int32(aki.count), &akiLength, &serial, Int32(serial.count), &serialLength) == 1 else {
            return nil
        }
        return Base64URL.encode(Data(aki.prefix(Int(akiLength)))) + "." + Base64URL.encode(Data(serial.prefix(Int(serialLength))))
    }
}
