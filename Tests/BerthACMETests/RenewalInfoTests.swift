import BerthACME
import BerthTestSupport
import Foundation
import Testing

/// ACME Renewal Information (RFC 9773) without a CA: the certificate id,
/// the window's parsing and the moment drawn from it.
@Suite struct RenewalInfoTests {
    /// RFC 9773 §4.1's example serial (0x87654321, content octets 00 87 65 43 21
    /// → "AIdlQyE"); the key identifier is the one openssl wrote.
    @Test func theCertificateIDIsTheAuthorityKeyIDAndTheSerial() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-ari-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PebbleServer.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                                  "-days", "1", "-subj", "/CN=ari.test", "-set_serial", "0x87654321",
                                                  "-addext", "authorityKeyIdentifier=keyid:always",
                                                  "-keyout", dir + "/k.pem", "-out", dir + "/c.pem"])
        let pem = try String(contentsOfFile: dir + "/c.pem", encoding: .utf8)
        let text = try PebbleServer.run("/usr/bin/openssl", ["x509", "-noout", "-ext", "authorityKeyIdentifier", "-in", dir + "/c.pem"])
        let hex = try #require(text.split(separator: "\n").dropFirst().first).trimmingCharacters(in: .whitespaces)
            .replacingOccurrences(of: "keyid:", with: "").split(separator: ":").compactMap { UInt8($0, radix: 16) }
        #expect(hex.count == 20)
        #expect(RenewalInfo.certificateID(ofPEM: pem) == Base64URL.encode(Data(hex)) + ".AIdlQyE")
        // Without an authority key identifier there is no id.
        try PebbleServer.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                                  "-days", "1", "-subj", "/CN=ari.test", "-addext", "authorityKeyIdentifier=none",
                                                  "-keyout", dir + "/k2.pem", "-out", dir + "/c2.pem"])
        #expect(RenewalInfo.certificateID(ofPEM: try String(contentsOfFile: dir + "/c2.pem", encoding: .utf8)) == nil)
        #expect(RenewalInfo.certificateID(ofPEM: "not a certificate") == nil)
    }

    @Test func aWindowIsParsedAndAMomentDrawnFromIt() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let body = Data(#"{"suggestedWindow":{"start":"2027-01-15T08:00:00Z","end":"2027-01-15T10:00:00.5Z"},"explanationURL":"https://ca.test/why"}"#.utf8)
        let info = try RenewalInfo.parse(body, retryAfter: "120", now: now)
        #expect(info.start == ISO8601DateFormatter().date(from: "2027-01-15T08:00:00Z"))
        #expect(info.end.timeIntervalSince(info.start) == 7200.5)
        #expect(info.checkAgain == now.addingTimeInterval(120))
        #expect(info.explanationURL == "https://ca.test/why")
        // Retry-After is kept within a minute and a day; six hours without one.
        #expect(try RenewalInfo.parse(body, retryAfter: "1", now: now).checkAgain == now.addingTimeInterval(60))
        #expect(try RenewalInfo.parse(body, retryAfter: "9999999", now: now).checkAgain == now.addingTimeInterval(86_400))
        #expect(try RenewalInfo.parse(body, retryAfter: nil, now: now).checkAgain == now.addingTimeInterval(21_600))
        // Inside the window; now once it has passed; from now when it has begun.
        #expect(info.renewalTime(now: now, unit: 0) == info.start)
        #expect(info.renewalTime(now: now, unit: 0.5) == info.start.addingTimeInterval(3600.25))
        let later = info.end.addingTimeInterval(1)
        #expect(info.renewalTime(now: later, unit: 0.3) == later)
        let inside = info.start.addingTimeInterval(3600)
        #expect(info.renewalTime(now: inside, unit: 0) == inside)
        // A window that ends before it starts, or none, is an error.
        #expect(throws: (any Error).self) {
            try RenewalInfo.parse(Data(#"{"suggestedWindow":{"start":"2027-01-15T10:00:00Z","end":"2027-01-15T08:00:00Z"}}"#.utf8), retryAfter: nil)
        }
        #expect(throws: (any Error).self) { try RenewalInfo.parse(Data(#"{"window":{}}"#.utf8), retryAfter: nil) }
    }
}
