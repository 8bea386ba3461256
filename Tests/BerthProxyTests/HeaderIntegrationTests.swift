import Testing

@Suite struct HeaderIntegrationTests {
    @Test func forwardedHeadersAndRequestID() throws {
        try withProxy(upstreamApp) { (port: Int) throws in
            let r = try request(port, "GET /u/echo HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\n\r\n")
            let h = r.echoedHeaders
            #expect(h["x-forwarded-for"] == ["10.0.0.1, 10.0.0.2, 127.0.0.1"])
            #expect(h["x-forwarded-proto"] == ["http"])
            #expect(h["x-forwarded-host"] == ["shop.example"])
            let id = h["x-request-id"]?.first ?? ""
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
            let r2 = try request(port, "GET /u/echo HTTP/1.1\r\nHost: h\r\nX-Request-Id: abc-123\r\n\r\n")
            #expect(r2.echoedHeaders["x-request-id"] == ["abc-123"])
            let r3 = try request(port, "GET /u/echo HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(r3.echoedHeaders["x-request-id"]?.first != id)
        }
    }

    @Test func hopByHopHeadersRemoved() throws {
        try withProxy(upstreamApp) { (port: Int) throws in
            let r = try request(port, """
            GET /u/echo HTTP/1.1\r
            Host: h\r
            Connection: keep-alive, X-Secret\r
            X-Secret: s\r
            Keep-Alive: timeout=5\r
            Proxy-Connection: keep-alive\r
            TE: gzip\r
            Upgrade: h2c\r
            Trailer: X-T\r
            X-End-To-End: yes\r
            \r

            """)
            let h = r.echoedHeaders
            for gone in ["connection", "x-secret", "keep-alive", "proxy-connection", "te", "upgrade", "trailer"] {
                #expect(h[gone] == nil, "\(gone) must not be forwarded")
            }
            #expect(h["x-end-to-end"] == ["yes"])
            let t = try request(port, "GET /u/echo HTTP/1.1\r\nHost: h\r\nTE: trailers\r\n\r\n")
            #expect(t.echoedHeaders["te"] == ["trailers"])
        }
    }

    @Test func responseHopByHopRemovedAndFramingRewritten() throws {
        try withProxy(upstreamApp) { (port: Int) throws in
            // The fixture answers /bytes?mode=close with "Connection: close" and no length.
            let r = try request(port, "GET /u/bytes?n=1000&mode=close HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(r.status == 200)
            #expect(r.body.count == 1000)
            #expect(r.header("transfer-encoding") == "chunked")
            #expect(r.header("connection") == nil)
        }
    }
}
