import Testing
import BerthHTTP

/// Every way a request head can be ambiguous, by name: each must be refused
/// with the named reason and the status a client gets.
@Suite struct RequestSmugglingTests {
    let h = "Host: h\r\n"

    @Test func contentLengthWithTransferEncoding() {
        #expect(requestError("POST / HTTP/1.1\r\n\(h)Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n") == .contentLengthWithTransferEncoding)
        #expect(requestError("POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n") == .contentLengthWithTransferEncoding)
    }

    @Test func differingDuplicateContentLength() {
        #expect(requestError("POST / HTTP/1.1\r\n\(h)Content-Length: 5\r\nContent-Length: 6\r\n\r\n") == .conflictingContentLength)
        #expect(requestError("POST / HTTP/1.1\r\n\(h)Content-Length: 5, 6\r\n\r\n") == .conflictingContentLength)
    }

    @Test func invalidContentLength() {
        for v in ["-1", "+5", "5a", "0x5", "", "1 2", "99999999999999999999"] {
            #expect(requestError("POST / HTTP/1.1\r\n\(h)Content-Length: \(v)\r\n\r\n") == .invalidContentLength, "\(v)")
        }
    }

    @Test func transferEncodingLastCodingNotChunked() {
        #expect(requestError("POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked, gzip\r\n\r\n") == .chunkedNotLast)
        #expect(requestError("POST / HTTP/1.1\r\n\(h)Transfer-Encoding: identity\r\n\r\n") == .chunkedNotLast)
        #expect(requestError("POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunkedx\r\n\r\n") == .chunkedNotLast)
        #expect(requestError("POST / HTTP/1.1\r\n\(h)Transfer-Encoding: \r\n\r\n") == .chunkedNotLast)
        #expect(HTTPParseError.chunkedNotLast.status == 400)
    }

    @Test func transferEncodingChunkedTwice() {
        #expect(requestError("POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") == .chunkedTwice)
    }

    @Test func unknownCodingBeforeChunkedIs501() {
        #expect(requestError("POST / HTTP/1.1\r\n\(h)Transfer-Encoding: gzip, chunked\r\n\r\n") == .unsupportedTransferCoding)
        #expect(HTTPParseError.unsupportedTransferCoding.status == 501)
    }

    @Test func transferEncodingInHTTP10() {
        #expect(requestError("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == .transferEncodingInHTTP10)
    }

    @Test func obsFold() {
        #expect(requestError("GET / HTTP/1.1\r\n\(h)X-A: one\r\n two\r\n\r\n") == .obsFold)
        #expect(requestError("GET / HTTP/1.1\r\n\(h)X-A: one\r\n\ttwo\r\n\r\n") == .obsFold)
    }

    @Test func whitespaceBeforeColon() {
        #expect(requestError("GET / HTTP/1.1\r\nHost : h\r\n\r\n") == .whitespaceBeforeColon)
        #expect(requestError("POST / HTTP/1.1\r\n\(h)Transfer-Encoding\t: chunked\r\n\r\n") == .whitespaceBeforeColon)
    }

    @Test func bareCR() {
        #expect(requestError("GET / HTTP/1.1\r\n\(h)X-A: a\rb\r\n\r\n") == .bareCR)
        #expect(requestError("GET /\r HTTP/1.1\r\n\(h)\r\n") == .bareCR)
        #expect(requestError("GET / HTTP/1.1\r\n\(h)X-A\r: b\r\n\r\n") == .bareCR)
    }

    @Test func bareLF() {
        #expect(requestError("GET / HTTP/1.1\n\(h)\r\n") == .bareLF)
        #expect(requestError("GET / HTTP/1.1\r\nHost: h\n\r\n") == .bareLF)
    }

    @Test func controlCharactersInValue() {
        #expect(requestError("GET / HTTP/1.1\r\n\(h)X-A: a\u{0}b\r\n\r\n") == .invalidHeaderValue)
        #expect(requestError("GET / HTTP/1.1\r\n\(h)X-A: a\u{1}b\r\n\r\n") == .invalidHeaderValue)
        #expect(requestError("GET / HTTP/1.1\r\n\(h)X-A: a\u{7f}b\r\n\r\n") == .invalidHeaderValue)
    }

    /// Long values go through the 8-bytes-at-a-time check: a bad byte at any
    /// offset must still be found, and TAB and obs-text must still pass.
    @Test func controlCharactersAnywhereInLongValues() {
        for bad: UInt8 in [0x00, 0x01, 0x0B, 0x1F, 0x7F, 0x0D] {
            for at in 0..<40 {
                var value = [UInt8](repeating: UInt8(ascii: "a"), count: 41)
                value[at] = bad
                let text = "GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + String(decoding: value, as: UTF8.self) + "z\r\n\r\n"
                let e = requestError(text)
                #expect(e == (bad == 0x0D ? .bareCR : .invalidHeaderValue), "byte \(bad) at \(at)")
            }
        }
        var ok = Array("GET / HTTP/1.1\r\nHost: h\r\nX-Long: ".utf8)
        ok += (0..<40).map { $0 % 5 == 0 ? 0x09 : UInt8(0x80 + $0) }
        ok += Array("z\r\n\r\n".utf8)
        var parser = RequestHeadParser()
        #expect(ok.withUnsafeBytes { parser.parse($0) } == .complete(consumed: ok.count))
    }

    @Test func invalidHeaderNames() {
        #expect(requestError("GET / HTTP/1.1\r\n\(h): v\r\n\r\n") == .invalidHeaderName)
        #expect(requestError("GET / HTTP/1.1\r\n\(h)X(A): v\r\n\r\n") == .invalidHeaderName)
        #expect(requestError("GET / HTTP/1.1\r\n\(h)NoColon\r\n\r\n") == .invalidHeaderName)
    }

    @Test func badRequestTargets() {
        #expect(requestError("GET * HTTP/1.1\r\n\(h)\r\n") == .asteriskTarget)
        #expect(requestError("OPTIONS * HTTP/1.1\r\n\(h)\r\n") == .asteriskTarget)
        #expect(requestError("GET admin HTTP/1.1\r\n\(h)\r\n") == .invalidTarget)
        #expect(requestError("GET ftp://x/ HTTP/1.1\r\n\(h)\r\n") == .invalidTarget)
        #expect(requestError("GET /a#frag HTTP/1.1\r\n\(h)\r\n") == .invalidTarget)
        #expect(requestError("GET /a b HTTP/1.1\r\n\(h)\r\n") == .invalidTarget)
        #expect(requestError("GET /\u{e9} HTTP/1.1\r\n\(h)\r\n") == .invalidTarget)
    }

    @Test func connectIsRefused() {
        #expect(requestError("CONNECT example.com:443 HTTP/1.1\r\n\(h)\r\n") == .connectNotSupported)
        #expect(requestError("CONNECT / HTTP/1.1\r\n\(h)\r\n") == .connectNotSupported)
    }

    @Test func requestLineShape() {
        #expect(requestError("GET  / HTTP/1.1\r\n\(h)\r\n") == .invalidTarget)
        #expect(requestError("GET / HTTP/1.1 \r\n\(h)\r\n") == .invalidTarget)
        #expect(requestError("GET /\r\n\(h)\r\n") == .invalidRequestLine)
        #expect(requestError("G(T / HTTP/1.1\r\n\(h)\r\n") == .invalidMethod)
        #expect(requestError("GET / HTTP/1.x\r\n\(h)\r\n") == .invalidVersion)
        #expect(requestError("GET / HTTP/2.0\r\n\(h)\r\n") == .unsupportedVersion)
        #expect(HTTPParseError.unsupportedVersion.status == 505)
    }

    @Test func hostRules() {
        #expect(requestError("GET / HTTP/1.1\r\n\r\n") == .missingHost)
        #expect(requestError("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == .duplicateHost)
        #expect(requestError("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n") == .invalidHost)
        #expect(requestError("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n") == .invalidHost)
        #expect(requestError("GET / HTTP/1.0\r\n\r\n") == nil)
    }

    @Test func oversizeRequestLineIs414() {
        let long = String(repeating: "a", count: 2000)
        let e = requestError("GET /\(long) HTTP/1.1\r\n\(h)\r\n", maxHeadSize: 1024)
        #expect(e == .requestLineTooLong)
        #expect(e?.status == 414)
        // Also while the line is still arriving.
        #expect(requestError("GET /\(long)", maxHeadSize: 1024) == .requestLineTooLong)
    }

    @Test func oversizeHeadIs431() {
        let big = String(repeating: "b", count: 2000)
        let e = requestError("GET / HTTP/1.1\r\n\(h)X-Big: \(big)\r\n\r\n", maxHeadSize: 1024)
        #expect(e == .headTooLarge)
        #expect(e?.status == 431)
        #expect(requestError("GET / HTTP/1.1\r\n\(h)X-Big: \(big)", maxHeadSize: 1024) == .headTooLarge)
    }

    @Test func tooManyHeadersIs431() {
        let many = (0..<200).map { "X-\($0): v\r\n" }.joined()
        #expect(requestError("GET / HTTP/1.1\r\n\(h)\(many)\r\n") == .tooManyHeaders)
        #expect(HTTPParseError.tooManyHeaders.status == 431)
    }
}
