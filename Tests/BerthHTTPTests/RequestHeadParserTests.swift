import Testing
import BerthHTTP

@Suite struct RequestHeadParserTests {
    @Test func simpleGet() {
        let text = "GET /ruby/x?q=1 HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\n\r\n"
        let (result, head) = parseRequest(text)
        #expect(result == .complete(consumed: text.utf8.count))
        #expect(head.method == .get)
        #expect(head.version == .http11)
        #expect(head.headers.count == 2)
        #expect(head.keepAlive)
        #expect(head.framing == .none)
        let bytes = Array(text.utf8)
        #expect(String(decoding: bytes[head.path.start..<head.path.end], as: UTF8.self) == "/ruby/x")
        #expect(String(decoding: bytes[head.query.start..<head.query.end], as: UTF8.self) == "?q=1")
        let host = head.host!
        #expect(String(decoding: bytes[host.start..<host.end], as: UTF8.self) == "example.com:8080")
    }

    @Test func incrementalByteByByte() {
        let text = Array("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello".utf8)
        var parser = RequestHeadParser()
        var result = HeadParseResult.needMore
        for n in 1...text.count {
            result = text[0..<n].withUnsafeBytes { parser.parse($0) }
            if result != .needMore { break }
        }
        #expect(result == .complete(consumed: text.count - 5))
        #expect(parser.head.framing == .length(5))
        #expect(parser.head.method == .post)
    }

    @Test func needsMoreUntilEmptyLine() {
        #expect(parseRequest("GET / HTTP/1.1\r\nHost: h\r\n").0 == .needMore)
    }

    @Test func leadingEmptyLinesIgnored() {
        let (r, head) = parseRequest("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(r == .complete(consumed: 31))
        #expect(head.start == 4)
    }

    @Test func http10KeepAliveRules() {
        #expect(!parseRequest("GET / HTTP/1.0\r\n\r\n").1.keepAlive)
        #expect(parseRequest("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").1.keepAlive)
        #expect(!parseRequest("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").1.keepAlive)
    }

    @Test func absoluteFormTargetGivesAuthorityAndPath() {
        let text = "GET http://Example.com:81/p?x HTTP/1.1\r\nHost: other\r\n\r\n"
        let (r, head) = parseRequest(text)
        #expect(r == .complete(consumed: text.utf8.count))
        let b = Array(text.utf8)
        #expect(String(decoding: b[head.host!.start..<head.host!.end], as: UTF8.self) == "Example.com:81")
        #expect(String(decoding: b[head.path.start..<head.path.end], as: UTF8.self) == "/p")
    }

    @Test func upgradeAndExpect() {
        let (_, ws) = parseRequest("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n")
        #expect(ws.isUpgrade)
        let (_, e) = parseRequest("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        #expect(e.semantics.expectContinue)
        #expect(requestError("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n") == .unsupportedExpectation)
        #expect(HTTPParseError.unsupportedExpectation.status == 417)
    }

    @Test func connectionTokensAreRecorded() {
        let text = "GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Secret, close\r\n\r\n"
        let (_, head) = parseRequest(text)
        #expect(head.semantics.connectionTokens.count == 1)
        #expect(!head.keepAlive)
    }

    @Test func chunkedFraming() {
        let (_, head) = parseRequest("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(head.framing == .chunked)
        let (_, h2) = parseRequest("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\n\r\n")
        #expect(h2.framing == .chunked)
    }

    @Test func identicalDuplicateContentLengthAccepted() {
        let (r, head) = parseRequest("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n")
        #expect(r != .needMore)
        #expect(head.framing == .length(5))
        #expect(parseRequest("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n").1.framing == .length(5))
    }
}
