import Testing
import BerthHTTP

@Suite struct ResponseHeadParserTests {
    @Test func framingByStatusAndMethod() {
        let (r, head) = parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n")
        #expect(r == .complete(consumed: 39))
        #expect(head.framing(for: .get) == .length(12))
        #expect(head.framing(for: .head) == .none)
        #expect(parseResponse("HTTP/1.1 204 No Content\r\n\r\n").1.framing(for: .get) == .none)
        #expect(parseResponse("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n").1.framing(for: .get) == .none)
        #expect(parseResponse("HTTP/1.1 100 Continue\r\n\r\n").1.isInformational)
        #expect(parseResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").1.framing(for: .get) == .chunked)
        #expect(parseResponse("HTTP/1.1 200 OK\r\n\r\n").1.framing(for: .get) == .untilClose)
        #expect(parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").1.framing(for: .get) == .none)
    }

    @Test func reasonPhraseOptional() {
        #expect(parseResponse("HTTP/1.1 200\r\n\r\n").0 == .complete(consumed: 16))
        #expect(parseResponse("HTTP/1.1 200 \r\n\r\n").1.status == 200)
    }

    @Test func keepAlive() {
        #expect(parseResponse("HTTP/1.1 200 OK\r\n\r\n").1.keepAlive)
        #expect(!parseResponse("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").1.keepAlive)
        #expect(!parseResponse("HTTP/1.0 200 OK\r\n\r\n").1.keepAlive)
        #expect(parseResponse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n").1.keepAlive)
    }

    @Test func strictTowardUpstreams() {
        #expect(responseError("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n") == .contentLengthWithTransferEncoding)
        #expect(responseError("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n") == .conflictingContentLength)
        #expect(responseError("HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n") == .obsFold)
        #expect(responseError("HTTP/1.1 200 OK\r\nX-A : a\r\n\r\n") == .whitespaceBeforeColon)
        #expect(responseError("HTTP/1.1 200 OK\r\nX-A: a\u{0}\r\n\r\n") == .invalidHeaderValue)
        #expect(responseError("HTTP/1.1 200 OK\nX: y\r\n\r\n") == .bareLF)
        #expect(responseError("garbage garbage\r\n\r\n") == .invalidStatusLine)
        #expect(responseError("HTTP/1.1 20 OK\r\n\r\n") == .invalidStatusLine)
        #expect(responseError("HTTP/1.1 999 OK\r\n\r\n") == .invalidStatusLine)
        #expect(responseError("HTTP/2.0 200 OK\r\n\r\n") == .invalidStatusLine)
        #expect(responseError("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n") == .chunkedNotLast)
    }
}
