import Testing
import BerthConfig
import BerthHTTP
@testable import BerthProxy

/// The head berth sends upstream, built from a parsed request with no socket.
@Suite struct RequestRewriterTests {
    func rewrite(_ request: String) throws -> String {
        let table = try RouteTable(config: try Config.parse(proxyConfig(app("u", "/u", [9001])), file: "t"))
        let route = try #require(table.routes.first)
        var parser = RequestHeadParser()
        let bytes = Array(request.utf8)
        let out = ByteBuffer(capacity: 4096)
        var ids = RequestIDGenerator()
        try bytes.withUnsafeBytes { b in
            guard case .complete = parser.parse(b) else { throw TestError("not a complete head") }
            _ = RequestRewriter.write(parser.head, b, route: route,
                                      context: .init(clientAddress: Array("10.0.0.1".utf8), upstreamName: Array("127.0.0.1:9001".utf8),
                                                     chunked: parser.head.framing == .chunked),
                                      ids: &ids, into: out)
        }
        return out.withReadableBytes { String(decoding: $0, as: UTF8.self) }
    }

    func contentLengthLines(_ head: String) -> [String] {
        head.split(separator: "\r\n").filter { $0.lowercased().hasPrefix("content-length:") }.map(String.init)
    }

    @Test func twoIdenticalContentLengthsAreForwardedAsOne() throws {
        let head = try rewrite("POST /u/x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n")
        #expect(contentLengthLines(head) == ["Content-Length: 5"])
    }

    @Test func aListOfAgreeingValuesIsForwardedAsOne() throws {
        let head = try rewrite("POST /u/x HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n")
        #expect(contentLengthLines(head) == ["Content-Length: 5"])
    }

    @Test func aSingleContentLengthStaysOneAndZeroIsKept() throws {
        #expect(contentLengthLines(try rewrite("POST /u/x HTTP/1.1\r\nHost: h\r\ncontent-length: 12\r\n\r\n")) == ["Content-Length: 12"])
        #expect(contentLengthLines(try rewrite("POST /u/x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")) == ["Content-Length: 0"])
        #expect(contentLengthLines(try rewrite("GET /u/x HTTP/1.1\r\nHost: h\r\n\r\n")).isEmpty)
    }

    @Test func chunkedRequestsCarryNoContentLength() throws {
        let head = try rewrite("POST /u/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(contentLengthLines(head).isEmpty)
        #expect(head.contains("Transfer-Encoding: chunked\r\n"))
    }

    @Test func differingContentLengthsAreRefusedByTheParser() {
        var parser = RequestHeadParser()
        let result = Array("POST /u/x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n".utf8)
            .withUnsafeBytes { parser.parse($0) }
        guard case .error(let e) = result else {
            Issue.record("accepted differing Content-Length values")
            return
        }
        #expect(e.status == 400)
    }
}
