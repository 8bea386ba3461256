import Testing
import Foundation

@Suite struct BodyStreamingIntegrationTests {
    @Test func chunkedRequestBodyIsDecodedAndReencoded() throws {
        try withProxy(upstreamApp) { (port: Int) throws in
            let c = try RawClient(port: port)
            c.send("POST /u/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
            let r = try c.readResponse()
            #expect(r.json["body_length"] as? Int == 11)
            // sha256("hello world")
            #expect(r.json["body_sha256"] as? String == "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
            // The connection is still in sync afterwards.
            c.send("GET /u/echo/next HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(try c.readResponse().json["path"] as? String == "/echo/next")
        }
    }

    @Test func chunkedAndUntilCloseResponsesStream() throws {
        try withProxy(upstreamApp) { (port: Int) throws in
            for mode in ["chunked", "close", "length"] {
                let (_, got) = try run(["sh", "-c", "curl -sf 'http://127.0.0.1:\(port)/u/bytes?n=3000000&mode=\(mode)' | sha256sum | cut -d' ' -f1"])
                let (_, want) = try run(["curl", "-s", "http://127.0.0.1:\(UpstreamProcess.shared.port)/sha?n=3000000"])
                #expect(got.trimmingCharacters(in: .whitespacesAndNewlines) == want, "\(mode)")
            }
        }
    }

    @Test func hundredMiBUploadAndDownloadBySHA256() throws {
        try withProxy(upstreamApp, extra: "limits {\n body-size 200M\n}\n") { (port: Int) throws in
            let n = 100 << 20
            // Download: what came through equals what the upstream generated.
            let (rc, got) = try run(["sh", "-c", "curl -sf 'http://127.0.0.1:\(port)/u/bytes?n=\(n)' | sha256sum | cut -d' ' -f1"])
            let (_, want) = try run(["curl", "-s", "http://127.0.0.1:\(UpstreamProcess.shared.port)/sha?n=\(n)"])
            #expect(rc == 0)
            #expect(got.trimmingCharacters(in: .whitespacesAndNewlines) == want)
            // Upload, with Content-Length and chunked.
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("berth-up-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            try run(["sh", "-c", "head -c \(n) /dev/urandom > \(file)"])
            let (_, fileSHA) = try run(["sh", "-c", "sha256sum \(file) | cut -d' ' -f1"])
            for chunked in [false, true] {
                var args = ["curl", "-sf", "--data-binary", "@\(file)", "http://127.0.0.1:\(port)/u/echo"]
                if chunked { args.insert(contentsOf: ["-H", "Transfer-Encoding: chunked"], at: 2) }
                let (_, out) = try run(args)
                let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
                #expect(json?["body_length"] as? Int == n, "chunked=\(chunked)")
                #expect(json?["body_sha256"] as? String == fileSHA.trimmingCharacters(in: .whitespacesAndNewlines), "chunked=\(chunked)")
            }
        }
    }

    @Test func expectContinueIsRelayed() throws {
        try withProxy(upstreamApp) { (port: Int) throws in
            let c = try RawClient(port: port)
            c.send("PUT /u/echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            let interim = try c.readResponse(keepInterim: true)
            #expect(interim.status == 100)
            c.send("hello")
            let r = try c.readResponse()
            #expect(r.status == 200)
            #expect(r.json["body_length"] as? Int == 5)
        }
    }

    @Test func longTrickledResponseArrivesIntact() throws {
        try withProxy(upstreamApp) { (port: Int) throws in
            let r = try request(port, "GET /u/trickle?n=300000&secs=1 HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(r.body.count == 300000)
        }
    }
}
