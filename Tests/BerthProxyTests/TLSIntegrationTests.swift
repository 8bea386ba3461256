import Testing
import Foundation
import BerthConfig
import BerthRouting
@testable import BerthProxy

#if canImport(Glibc)
import Glibc
#endif

/// Self-signed certificates made with `openssl req` for the test hosts.
final class TestCertificates: @unchecked Sendable {
    static let shared = try! TestCertificates()
    let dir: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for host in ["a.test", "b.test"] {
            let (status, _) = try run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                                       "-keyout", "\(dir)/\(host).key", "-out", "\(dir)/\(host).pem",
                                       "-subj", "/CN=\(host)", "-addext", "subjectAltName=DNS:\(host)"])
            guard status == 0 else { throw TestError("openssl req failed for \(host)") }
        }
    }

    func cert(_ host: String) -> String { "\(dir)/\(host).pem" }
    func key(_ host: String) -> String { "\(dir)/\(host).key" }
}

/// `openssl s_client` against 127.0.0.1:port with extra options; its output.
func sClient(_ port: Int, _ options: [String]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["openssl", "s_client", "-connect", "127.0.0.1:\(port)"] + options
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite(.serialized) struct TLSIntegrationTests {
    let certs = TestCertificates.shared
    var upstreamApp: String { app("u", "/u", [UpstreamProcess.shared.port]) }

    func withTLS(_ listenTLS: String, extra: String = "", apps: String? = nil, _ body: (ProxyServer, Int) throws -> Void) throws {
        let text = "listen 127.0.0.1:0 \(listenTLS)\nworkers 2\n\(extra)\n\(apps ?? upstreamApp)"
        let server = try ProxyServer(config: try Config.parse(text, file: "tls.conf"))
        try server.start()
        defer { server.stop() }
        try body(server, server.ports[0])
    }

    @Test func curlGetsTheUpstreamWithForwardedProtoHTTPS() throws {
        try withTLS("tls cert=\(certs.cert("a.test")) key=\(certs.key("a.test"))") { (_: ProxyServer, port: Int) throws in
            let (status, body) = try run(["curl", "-s", "--cacert", certs.cert("a.test"), "--resolve", "a.test:\(port):127.0.0.1",
                                          "https://a.test:\(port)/u/echo"])
            #expect(status == 0)
            let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            let headers = (json?["headers"] as? [[String]] ?? []).map { $0.joined(separator: ": ") }
            #expect(headers.contains("X-Forwarded-Proto: https"), "\(headers)")
            // Verified against the certificate: a wrong name fails.
            #expect(try run(["curl", "-s", "--cacert", certs.cert("a.test"), "https://127.0.0.1:\(port)/u/echo"]).0 != 0)
        }
    }

    @Test func pythonKeepAliveAndALPN() throws {
        try withTLS("tls cert=\(certs.cert("a.test")) key=\(certs.key("a.test"))") { (_: ProxyServer, port: Int) throws in
            let script = """
                import http.client, ssl
                ctx = ssl.create_default_context(cafile="\(certs.cert("a.test"))")
                ctx.set_alpn_protocols(["http/1.1"])  # http.client speaks HTTP/1.1 only (h2 is preferred when offered)
                c = http.client.HTTPSConnection("a.test", \(port), context=ctx)
                c._create_connection = lambda addr, *a, **k: __import__("socket").create_connection(("127.0.0.1", \(port)))
                ports = set()
                for i in range(1500):  # ~97 KB: past where the 64 KiB input buffer wraps (a past bug: read as EOF)
                    c.request("GET", "/u/echo")
                    r = c.getresponse()
                    assert r.status == 200, r.status
                    ports.add(__import__("json").loads(r.read())["conn"])
                print(c.sock.selected_alpn_protocol(), c.sock.version(), len(ports))
                """
            let (status, out) = try run(["python3", "-c", script])
            #expect(status == 0)
            // One TLS connection reused for every request (and one pooled upstream connection).
            #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "http/1.1 TLSv1.3 1", "\(out)")
        }
    }

    /// A leaf signed by an intermediate: the listener sends the chain from its
    /// PEM file, so a client that trusts only the root verifies it.
    @Test func certificateChainsAreSent() throws {
        let d = certs.dir + "/chain"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        let steps = [
            "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout \(d)/root.key -out \(d)/root.pem -subj /CN=berth-test-root",
            "openssl req -newkey rsa:2048 -nodes -keyout \(d)/mid.key -out \(d)/mid.csr -subj /CN=berth-test-intermediate",
            "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n' > \(d)/ca.ext",
            "openssl x509 -req -in \(d)/mid.csr -CA \(d)/root.pem -CAkey \(d)/root.key -CAcreateserial -days 2 -extfile \(d)/ca.ext -out \(d)/mid.pem",
            "openssl req -newkey rsa:2048 -nodes -keyout \(d)/leaf.key -out \(d)/leaf.csr -subj /CN=chain.test",
            "printf 'subjectAltName=DNS:chain.test\\n' > \(d)/leaf.ext",
            "openssl x509 -req -in \(d)/leaf.csr -CA \(d)/mid.pem -CAkey \(d)/mid.key -CAcreateserial -days 2 -extfile \(d)/leaf.ext -out \(d)/leaf.pem",
            "cat \(d)/leaf.pem \(d)/mid.pem > \(d)/fullchain.pem",
        ]
        for step in steps { #expect(try run(["sh", "-c", step + " 2>/dev/null"]).0 == 0, "\(step)") }
        try withTLS("tls cert=\(d)/fullchain.pem key=\(d)/leaf.key") { (_: ProxyServer, port: Int) throws in
            let (status, _) = try run(["curl", "-s", "-o", "/dev/null", "--cacert", "\(d)/root.pem", "--resolve", "chain.test:\(port):127.0.0.1",
                                       "https://chain.test:\(port)/u/echo"])
            #expect(status == 0)
        }
        // Without the intermediate in the file the same client cannot verify.
        try withTLS("tls cert=\(d)/leaf.pem key=\(d)/leaf.key") { (_: ProxyServer, port: Int) throws in
            let (status, _) = try run(["curl", "-s", "-o", "/dev/null", "--cacert", "\(d)/root.pem", "--resolve", "chain.test:\(port):127.0.0.1",
                                       "https://chain.test:\(port)/u/echo"])
            #expect(status != 0)
        }
    }

    @Test func sniPicksTheCertificate() throws {
        let block = "tls {\n cert a.test \(certs.cert("a.test")) \(certs.key("a.test"))\n cert b.test \(certs.cert("b.test")) \(certs.key("b.test"))\n default a.test\n}"
        try withTLS("tls", extra: block) { (_: ProxyServer, port: Int) throws in
            #expect(try sClient(port, ["-servername", "b.test"]).1.contains("CN = b.test"))
            #expect(try sClient(port, ["-servername", "a.test"]).1.contains("CN = a.test"))
            #expect(try sClient(port, ["-noservername"]).1.contains("CN = a.test"))  // the default
            #expect(try sClient(port, ["-servername", "other.test"]).1.contains("CN = a.test"))
        }
    }

    @Test func oldProtocolsAndWeakCiphersAreRefused() throws {
        try withTLS("tls cert=\(certs.cert("a.test")) key=\(certs.key("a.test"))") { (_: ProxyServer, port: Int) throws in
            let ok = try sClient(port, ["-tls1_2"])
            #expect(ok.0 == 0 && ok.1.contains("ECDHE-RSA-AES") && ok.1.contains("GCM"), "\(ok.1.suffix(400))")
            #expect(try sClient(port, ["-tls1_1"]).0 != 0)
            #expect(try sClient(port, ["-tls1"]).0 != 0)
            #expect(try sClient(port, ["-tls1_2", "-cipher", "AES128-SHA"]).0 != 0)  // no forward secrecy
            #expect(try sClient(port, ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA"]).0 != 0)  // not AEAD
        }
        try withTLS("tls cert=\(certs.cert("a.test")) key=\(certs.key("a.test")) tls-min=1.3") { (_: ProxyServer, port: Int) throws in
            #expect(try sClient(port, ["-tls1_2"]).0 != 0)
            #expect(try sClient(port, ["-tls1_3"]).0 == 0)
        }
    }

    /// Session tickets (keys shared by every listener, rotated every 12 h):
    /// a second connection resumes without a full handshake.
    @Test func sessionsResume() throws {
        try withTLS("tls cert=\(certs.cert("a.test")) key=\(certs.key("a.test"))") { (_: ProxyServer, port: Int) throws in
            let session = certs.dir + "/session-\(port)"
            #expect(try sClient(port, ["-tls1_2", "-sess_out", session]).1.contains("New, TLSv1.2"))
            #expect(try sClient(port, ["-tls1_2", "-sess_in", session]).1.contains("Reused, TLSv1.2"))
            // Session ids too (clients without tickets), from the server's cache.
            #expect(try sClient(port, ["-tls1_2", "-no_ticket", "-sess_out", session + "id"]).1.contains("New, TLSv1.2"))
            #expect(try sClient(port, ["-tls1_2", "-no_ticket", "-sess_in", session + "id"]).1.contains("Reused, TLSv1.2"))
            // TLS 1.3: the ticket comes after the handshake, so make a request to wait for it.
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "(printf 'GET /u/echo HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n'; sleep 1) | openssl s_client -connect 127.0.0.1:\(port) -tls1_3 -sess_out \(session)13 -quiet >/dev/null 2>&1"]
            try p.run()
            p.waitUntilExit()
            #expect(try sClient(port, ["-tls1_3", "-sess_in", session + "13"]).1.contains("Reused, TLSv1.3"))
        }
    }

    /// TLS 1.3 tickets are used once (RFC 8446 C.4): a resumed connection gets a
    /// new ticket, so a client that resumes on each new connection (wrk,
    /// browsers) never needs a full handshake after the first.
    @Test func aResumedTLS13ConnectionGetsANewTicket() throws {
        try withTLS("tls cert=\(certs.cert("a.test")) key=\(certs.key("a.test"))") { (_: ProxyServer, port: Int) throws in
            let base = certs.dir + "/chain-\(port)-"
            // -ign_eof: read until the server closes, so a ticket sent after the handshake is seen.
            func connect(_ n: Int) throws -> String {
                let resume = n > 1 ? "-sess_in \(base)\(n - 1)" : ""
                return try run(["/bin/sh", "-c", "printf 'GET /u/echo HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n' | "
                    + "openssl s_client -connect 127.0.0.1:\(port) -tls1_3 -ign_eof -sess_out \(base)\(n) \(resume) 2>&1"]).1
            }
            #expect(try connect(1).contains("New, TLSv1.3"))
            for n in 2...4 {
                let out = try connect(n)
                #expect(out.contains("Reused, TLSv1.3"), "connection \(n)")
                #expect(out.contains("Post-Handshake New Session Ticket"), "connection \(n) got a new ticket")
            }
        }
    }

    @Test func plainHTTPIsRedirectedToHTTPS() throws {
        let text = "listen 127.0.0.1:0\nlisten 127.0.0.2:0 tls cert=\(certs.cert("a.test")) key=\(certs.key("a.test"))\nredirect-https on\n"
            + upstreamApp + "app open {\n path /open\n redirect-https off\n upstream 127.0.0.1:\(UpstreamProcess.shared.port)\n}\n"
        let server = try ProxyServer(config: try Config.parse(text, file: "tls.conf"))
        try server.start()
        defer { server.stop() }
        let (plain, tlsPort) = (server.ports[0], server.ports[1])
        let r = try request(plain, "GET /u/echo?x=1 HTTP/1.1\r\nHost: a.test:\(plain)\r\n\r\n")
        #expect(r.status == 308)
        #expect(r.header("Location") == "https://a.test:\(tlsPort)/u/echo?x=1")
        #expect(try request(plain, "GET /open/echo HTTP/1.1\r\nHost: a.test\r\n\r\n").status == 200)  // the app opted out
        // curl follows it to the TLS listener and verifies the certificate.
        let (_, code) = try run(["curl", "-s", "-L", "--cacert", certs.cert("a.test"), "--resolve", "a.test:\(tlsPort):127.0.0.2",
                                 "-H", "Host: a.test", "-o", "/dev/null", "-w", "%{http_code} %{num_redirects}", "http://127.0.0.1:\(plain)/u/echo"])
        #expect(code == "200 1")
    }

    @Test func reloadSwapsTheCertificateForNewConnectionsOnly() throws {
        let conf = { (host: String) in
            "listen 127.0.0.1:PORT tls cert=\(self.certs.cert(host)) key=\(self.certs.key(host))\nworkers 1\n" + self.upstreamApp
        }
        let server = try ProxyServer(config: try Config.parse(conf("a.test").replacingOccurrences(of: "PORT", with: "0"), file: "t"))
        try server.start()
        defer { server.stop() }
        let port = server.ports[0]
        // A keep-alive connection from before the swap.
        let script = """
            import http.client, ssl, sys
            ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
            c = http.client.HTTPSConnection("127.0.0.1", \(port), context=ctx)
            c.request("GET", "/u/echo"); r = c.getresponse(); r.read()
            print(c.sock.getpeercert(binary_form=True)[:0] == b"" and "ok", flush=True)
            sys.stdin.readline()
            c.request("GET", "/u/echo"); r = c.getresponse(); r.read()
            print(r.status, flush=True)
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        defer { kill(p.processIdentifier, SIGKILL) }
        _ = output.fileHandleForReading.readData(ofLength: 3)
        #expect(try sClient(port, []).1.contains("CN = a.test"))
        _ = try server.apply(try Config.parse(conf("b.test").replacingOccurrences(of: "PORT", with: "\(port)"), file: "t"))
        #expect(try sClient(port, []).1.contains("CN = b.test"))  // new connections: the new certificate
        input.fileHandleForWriting.write(Data("\n".utf8))
        let rest = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(rest.contains("200"), "\(rest)")  // the old connection still works
        // A certificate that does not load keeps the one in use (and the reload goes on).
        let broken = "listen 127.0.0.1:\(port) tls cert=\(certs.dir)/missing.pem key=\(certs.key("a.test"))\nworkers 1\n" + upstreamApp
        _ = try server.apply(try Config.parse(broken, file: "t"))
        #expect(try sClient(port, []).1.contains("CN = b.test"))
    }

    /// A client that closes its TCP connection without TLS's close_notify
    /// (after a request, or straight after the handshake) is an EOF: the
    /// connection closes at once, not read again and again as "retry"
    /// until a timeout (berth's socket BIO must report recv's 0 as an EOF).
    @Test func aCloseWithoutCloseNotifyEndsTheConnection() throws {
        try withTLS("tls cert=\(certs.cert("a.test")) key=\(certs.key("a.test"))") { (_: ProxyServer, port: Int) throws in
            let script = """
                import socket, ssl, time
                ctx = ssl.create_default_context(cafile="\(certs.cert("a.test"))")
                ctx.set_alpn_protocols(["http/1.1"])
                for request in (True, False):
                    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", \(port))), server_hostname="a.test")
                    if request:
                        s.sendall(b"GET /u/echo HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n")
                        assert s.recv(65536).startswith(b"HTTP/1.1 200")
                    raw = socket.socket(fileno=s.detach())  # no close_notify from here on
                    raw.shutdown(socket.SHUT_WR)
                    raw.settimeout(3)
                    start = time.monotonic()
                    while raw.recv(65536):  # a session ticket may still come first
                        pass
                    print(request, "closed after", round(time.monotonic() - start, 2))
                """
            let (status, out) = try run(["python3", "-c", script])
            #expect(status == 0, "\(out)")
        }
    }

    @Test func garbageAndStalledHandshakesDoNotHurtOthers() throws {
        try withTLS("tls cert=\(certs.cert("a.test")) key=\(certs.key("a.test"))", extra: "timeouts {\n header 1s\n}") { (_: ProxyServer, port: Int) throws in
            let garbage = try RawClient(port: port)
            garbage.send(Array(repeating: UInt8(0x16), count: 5) + Array("not a client hello at all".utf8))
            let stalled = try RawClient(port: port)
            stalled.send([0x16, 0x03, 0x01])  // the start of a record, then nothing
            let (status, _) = try run(["curl", "-sk", "https://127.0.0.1:\(port)/u/echo"])
            #expect(status == 0)
            #expect(garbage.isClosedByPeer())
            Thread.sleep(forTimeInterval: 1.6)  // the header timeout covers the handshake
            #expect(stalled.isClosedByPeer())
            #expect(try run(["curl", "-sk", "https://127.0.0.1:\(port)/u/echo"]).0 == 0)
        }
    }
}
