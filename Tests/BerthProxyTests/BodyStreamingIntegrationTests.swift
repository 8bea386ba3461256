import Testing
import Foundation
@testable import BerthProxy

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
    /// A large body of known length between plain sockets is spliced
    /// (`berth_spliced_bytes_total`): it arrives byte for byte, on a
    /// keep-alive connection that stays in step, to a slow reader too;
    /// chunked bodies are not spliced; an upstream that ends early
    /// closes the client, not hangs it.
    @Test func largePlainBodiesAreSplicedAndArriveIntact() throws {
        try withServer(upstreamApp) { server, port in
            let spliced = { server.snapshot().reduce(0) { $0 + $1.splicedBytes } }
            let n = 20 << 20
            let (_, want) = try run(["curl", "-s", "http://127.0.0.1:\(UpstreamProcess.shared.port)/sha?n=\(n)"])
            // Two downloads and a small request on one keep-alive connection.
            let url = "http://127.0.0.1:\(port)/u/bytes?n=\(n)"
            let connects = FileManager.default.temporaryDirectory.appendingPathComponent("berth-connects-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: connects) }
            let (rc, out) = try run(["sh", "-c", "curl -sf \(url) -o /dev/stdout \(url) -o /dev/stdout http://127.0.0.1:\(port)/u/echo/after -o /dev/null -w '%{stderr}%{num_connects} ' 2>\(connects) | { head -c \(n) | sha256sum | cut -d' ' -f1; head -c \(n) | sha256sum | cut -d' ' -f1; }; cat \(connects)"])
            let lines = out.split(separator: "\n").map(String.init)
            #expect(rc == 0 && lines.count == 3, "\(out)")
            #expect(lines.prefix(2).allSatisfy { $0 == want.trimmingCharacters(in: .whitespacesAndNewlines) }, "\(lines)")
            #expect(lines.last?.split(separator: " ").map(String.init) == ["1", "0", "0"], "one connection for the three: \(lines)")
            let afterTwo = spliced()
            #expect(afterTwo >= 2 * (n - (128 << 10)) && afterTwo <= 2 * n, "spliced \(afterTwo)")
            // A chunked body takes the buffered path.
            let (_, chunked) = try run(["sh", "-c", "curl -sf 'http://127.0.0.1:\(port)/u/bytes?n=\(n)&mode=chunked' | sha256sum | cut -d' ' -f1"])
            #expect(chunked.trimmingCharacters(in: .whitespacesAndNewlines) == want.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(spliced() == afterTwo)
            // A slow reader: the pipe waits for it, the bytes are the same.
            let slow = FileManager.default.temporaryDirectory.appendingPathComponent("berth-slow-\(UUID().uuidString).py").path
            defer { try? FileManager.default.removeItem(atPath: slow) }
            try """
            import hashlib, socket, sys, time
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
            s.sendall(b"GET " + sys.argv[2].encode() + b" HTTP/1.1\\r\\nHost: h\\r\\nConnection: close\\r\\n\\r\\n")
            time.sleep(float(sys.argv[3]) if len(sys.argv) > 3 else 0)  # let the proxy's buffers and pipe fill
            data = b""
            while True:
                try:
                    c = s.recv(65536)
                except ConnectionResetError:
                    break
                if not c: break
                data += c
                time.sleep(0.002)
            body = data.split(b"\\r\\n\\r\\n", 1)[1]
            print(hashlib.sha256(body).hexdigest(), len(body))
            """.write(toFile: slow, atomically: true, encoding: .utf8)
            let (_, slowOut) = try run(["/usr/bin/python3", slow, "\(port)", "/u/bytes?n=4194304"])
            let slowSHA = slowOut.split(separator: " ").first.map(String.init) ?? ""
            let (_, want4) = try run(["curl", "-s", "http://127.0.0.1:\(UpstreamProcess.shared.port)/sha?n=4194304"])
            #expect(slowSHA.trimmingCharacters(in: .whitespacesAndNewlines) == want4.trimmingCharacters(in: .whitespacesAndNewlines))
            // The upstream closes 1 MiB into a 20 MiB body: the client sees it cut, at once.
            let start = Date()
            let (cutRC, cutOut) = try run(["sh", "-c", "curl -s --max-time 10 'http://127.0.0.1:\(port)/u/bytes?n=\(n)&cut=1048576' -o /dev/null -w '%{size_download}'; echo \" rc=$?\""])
            #expect(cutRC == 0 && cutOut.hasPrefix("1048576 rc=18"), "\(cutOut)")
            #expect(Date().timeIntervalSince(start) < 5)
            // The same to a slow reader: the bytes the pipe holds when the
            // upstream ends still reach it, then the cut.
            let (_, slowCut) = try run(["/usr/bin/python3", slow, "\(port)", "/u/bytes?n=\(n)&cut=1048576", "0.5"])
            #expect(slowCut.hasSuffix(" 1048576\n"), "\(slowCut)")
            // Nothing is left busy.
            #expect(eventually(3) { server.snapshot().reduce(0) { $0 + $1.clientConnections } == 0 })
        }
    }
}
