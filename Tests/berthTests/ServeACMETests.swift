import BerthTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `listen ... tls auto` with pebble as the CA: serve answers HTTP-01 on its
/// plain listener, installs the certificate without a reload, and a restart
/// reuses the stored one.
@Suite(.serialized) struct ServeACMETests {
    @Test func tlsAutoGetsACertificateAndARestartReusesIt() throws {
        let httpPort = PebbleServer.freePort(), tlsPort = PebbleServer.freePort()
        let pebble = try PebbleServer(httpPort: httpPort)
        let backend = try FixtureUpstream()
        let config = """
        listen 127.0.0.1:\(httpPort)
        listen 127.0.0.1:\(tlsPort) tls auto
        workers 1
        acme {
            email ops@example.test
            directory \(pebble.directory)
            ca-root \(pebble.caFile)
            challenge http-01
        }
        app web {
            host app.example.test
            upstream 127.0.0.1:\(backend.port)
        }
        """
        let serve = try ServeProcess(config: config, waitForApps: false)
        defer { if serve.process.isRunning { _ = serve.terminate() } }
        let issued = serve.waitForLine(timeout: 60) { $0.contains("[acme]  app.example.test  certificate valid until") }
        #expect(issued != nil, "\(serve.lines)\n\(serve.stderrText())")
        let root = pebble.dir + "/root.pem"
        try pebble.issuingRoot().write(toFile: root, atomically: true, encoding: .utf8)
        let curl = "curl -s --max-time 10 --cacert \(root) --resolve app.example.test:\(tlsPort):127.0.0.1 https://app.example.test:\(tlsPort)/"
        #expect(try shell(curl).1.contains("\"method\""), "a certificate the client trusts, for the app's host")
        // Plain HTTP still routes; the stored key is private.
        #expect(try shell("curl -s -H 'Host: app.example.test' http://127.0.0.1:\(httpPort)/").1.contains("\"method\""))
        let key = serve.stateDir + "/acme/certs/app.example.test/key.pem"
        let mode = (try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        let (rc, certs, _) = try runBerth(["certs", "--state-dir", serve.stateDir])
        #expect(rc == 0 && certs.contains("app.example.test  valid") && certs.contains("Pebble") && certs.contains("renew "), "\(certs)")
        #expect(serve.terminate() == 0)

        // A restart serves the stored certificate at once and asks the CA for nothing.
        let again = try ServeProcess(config: config, stateDir: serve.stateDir, waitForApps: false)
        defer { if again.process.isRunning { _ = again.terminate() } }
        #expect(try shell(curl).1.contains("\"method\""))
        usleep(300_000)
        #expect(!again.lines.contains { $0.contains("[acme]") && $0.contains("requesting") }, "\(again.lines)")
        #expect(again.terminate() == 0)
    }

    /// TLS-ALPN-01 on the `tls auto` listener itself: no plain listener at all.
    @Test func tlsALPN01OnTheTLSListenerAlone() throws {
        let tlsPort = PebbleServer.freePort()
        let pebble = try PebbleServer(tlsPort: tlsPort)
        let backend = try FixtureUpstream()
        let config = """
        listen 127.0.0.1:\(tlsPort) tls auto
        workers 2
        acme {
            directory \(pebble.directory)
            ca-root \(pebble.caFile)
            challenge tls-alpn-01
        }
        app web {
            host alpn.example.test
            upstream 127.0.0.1:\(backend.port)
        }
        """
        let serve = try ServeProcess(config: config, waitForApps: false)
        defer { if serve.process.isRunning { _ = serve.terminate() } }
        // Before the certificate: handshakes fail cleanly (no certificate to offer).
        let root = pebble.dir + "/root.pem"
        try pebble.issuingRoot().write(toFile: root, atomically: true, encoding: .utf8)
        let issued = serve.waitForLine(timeout: 60) { $0.contains("[acme]  alpn.example.test  certificate valid until") }
        #expect(issued != nil, "\(serve.lines)\n\(serve.stderrText())")
        let curl = "curl -s --max-time 10 --cacert \(root) --resolve alpn.example.test:\(tlsPort):127.0.0.1 https://alpn.example.test:\(tlsPort)/"
        #expect(try shell(curl).1.contains("\"method\""))
        #expect(serve.terminate() == 0)
    }

    /// Three names issued, one that cannot be validated failing (with the CA's
    /// detail and a retry time) without holding them up, and a reload that
    /// adds a host getting its certificate; a restart orders nothing.
    @Test func threeNamesOneFailingAndAReloadAddingOne() throws {
        let httpPort = PebbleServer.freePort(), tlsPort = PebbleServer.freePort()
        let pebble = try PebbleServer(httpPort: httpPort)
        try pebble.resolve("bad.example.test", to: "127.0.0.2")  // nothing answers there
        let backend = try FixtureUpstream()
        func config(_ hosts: [String]) -> String {
            """
            listen 127.0.0.1:\(httpPort)
            listen 127.0.0.1:\(tlsPort) tls auto
            workers 1
            acme {
                directory \(pebble.directory)
                ca-root \(pebble.caFile)
                challenge http-01
            }
            """ + hosts.enumerated().map { "app a\($0.offset) {\n    host \($0.element)\n    upstream 127.0.0.1:\(backend.port)\n}\n" }.joined()
        }
        let names = ["one.example.test", "two.example.test", "bad.example.test", "three.example.test"]
        let serve = try ServeProcess(config: config(names), waitForApps: false)
        defer { if serve.process.isRunning { _ = serve.terminate() } }
        let root = pebble.dir + "/root.pem"
        try pebble.issuingRoot().write(toFile: root, atomically: true, encoding: .utf8)
        func verified(_ name: String) throws -> Bool {
            try shell("curl -s --max-time 10 --cacert \(root) --resolve \(name):\(tlsPort):127.0.0.1 https://\(name):\(tlsPort)/").1.contains("\"method\"")
        }
        for name in names where name != "bad.example.test" {
            #expect(serve.waitForLine(timeout: 60) { $0.contains("[acme]  \(name)  certificate valid until") } != nil, "\(name): \(serve.lines)")
            #expect(try verified(name), "\(name)")
        }
        #expect(serve.waitForLine(timeout: 30) { $0.contains("[acme]  bad.example.test  failed (1 in a row") } != nil)
        let (_, certs, _) = try runBerth(["certs", "--state-dir", serve.stateDir])
        let bad = certs.split(separator: "\n").first { $0.hasPrefix("bad.example.test") }.map(String.init) ?? ""
        #expect(bad.contains("failing since") && bad.contains("retry ") && bad.contains("127.0.0.2"), "\(certs)")
        // The account key, the certificates and their keys are root's alone.
        let acme = serve.stateDir + "/acme"
        let keys = try shell("find \(acme) -name '*.key' -o -name key.pem | xargs stat -c '%a %U'").1.split(separator: "\n")
        #expect(keys.count == 4 && keys.allSatisfy { $0 == "600 root" }, "\(keys)")
        let files = try shell("find \(acme) -type f | xargs stat -c '%a %U %n'").1.split(separator: "\n")
        #expect(files.count >= 8 && files.allSatisfy { $0.hasPrefix("600 root ") }, "\(files)")
        let dirs = try shell("find \(acme) -type d | xargs stat -c '%a %U %n'").1.split(separator: "\n")
        #expect(dirs.count >= 5 && dirs.allSatisfy { $0.hasPrefix("700 root ") }, "\(dirs)")
        // bad.example.test has no certificate: its handshakes are refused
        // (not answered with another name's), and that is logged once.
        for _ in 0..<3 {
            let (rc, out) = try shell("curl -s --max-time 5 --cacert \(root) --resolve bad.example.test:\(tlsPort):127.0.0.1 https://bad.example.test:\(tlsPort)/ -o /dev/null -w '%{http_code}'; echo \" rc=$?\"")
            #expect(rc == 0 && out.hasPrefix("000") && out.contains("rc=35"), "a refused handshake: \(out)")
        }
        let refusals = serve.stderrText().split(separator: "\n").filter { $0.contains("HTTPS handshakes refused") }
        #expect(refusals.count == 1 && refusals.first?.contains("name=bad.example.test") == true, "\(refusals)")

        // A reload that adds a host: it gets a certificate; the others stay.
        let orders = pebble.orderCount()
        try config(names + ["four.example.test"]).write(toFile: serve.configPath, atomically: true, encoding: .utf8)
        let (rc, said, _) = try runBerth(["reload", "--config", serve.configPath, "--state-dir", serve.stateDir])
        #expect(rc == 0, "\(said)")
        #expect(serve.waitForLine(timeout: 60) { $0.contains("[acme]  four.example.test  certificate valid until") } != nil)
        #expect(try verified("four.example.test") && verified("one.example.test"))
        #expect(pebble.orderCount() >= orders + 1)
        #expect(serve.terminate() == 0)

        // A restart: the stored ones are served, only the failing name is ordered again.
        let before = pebble.orderCount()
        let again = try ServeProcess(config: config(names + ["four.example.test"]), stateDir: serve.stateDir, waitForApps: false)
        defer { if again.process.isRunning { _ = again.terminate() } }
        #expect(try verified("two.example.test"))
        _ = again.waitForLine(timeout: 30) { $0.contains("[acme]  bad.example.test  failed") }
        #expect(pebble.orderCount() == before + 1, "only bad.example.test: \(again.lines)")
        #expect(again.terminate() == 0)
    }

    /// An ACME server that cannot be reached: the name is failing with why, and serving goes on.
    @Test func anUnreachableDirectoryIsAClearErrorAndServingContinues() throws {
        let httpPort = PebbleServer.freePort(), tlsPort = PebbleServer.freePort()
        let backend = try FixtureUpstream()
        let serve = try ServeProcess(config: """
        listen 127.0.0.1:\(httpPort)
        listen 127.0.0.1:\(tlsPort) tls auto
        workers 1
        acme {
            directory https://127.0.0.1:1/dir
        }
        app web {
            host web.example.test
            upstream 127.0.0.1:\(backend.port)
        }
        """, waitForApps: false)
        defer { if serve.process.isRunning { _ = serve.terminate() } }
        let failed = serve.waitForLine(timeout: 30) { $0.contains("[acme]  web.example.test  failed") }
        #expect(failed?.contains("https://127.0.0.1:1/dir") == true, "\(serve.lines)")
        #expect(try shell("curl -s -H 'Host: web.example.test' http://127.0.0.1:\(httpPort)/").1.contains("\"method\""), "HTTP still serves")
        // HTTPS is refused cleanly (no certificate yet), and serve is still up.
        #expect(try shell("curl -sk --max-time 5 https://127.0.0.1:\(tlsPort)/ -o /dev/null -w '%{http_code}'").1 == "000")
        #expect(serve.process.isRunning)
        #expect(serve.terminate() == 0)
    }

    /// A short-lived certificate is renewed two thirds into its life; a
    /// keep-alive connection made before stays up on the old one, a new
    /// connection gets the new one.
    @Test func renewalKeepsOpenConnections() throws {
        let httpPort = PebbleServer.freePort(), tlsPort = PebbleServer.freePort()
        let pebble = try PebbleServer(httpPort: httpPort, validity: 15)
        let backend = try FixtureUpstream()
        let serve = try ServeProcess(config: """
        listen 127.0.0.1:\(httpPort)
        listen 127.0.0.1:\(tlsPort) tls auto
        workers 1
        timeouts {
            header 60s
            idle 120s
        }
        acme {
            directory \(pebble.directory)
            ca-root \(pebble.caFile)
            challenge http-01
        }
        app web {
            host renew.example.test
            upstream 127.0.0.1:\(backend.port)
        }
        """, waitForApps: false)
        defer { if serve.process.isRunning { _ = serve.terminate() } }
        #expect(serve.waitForLine(timeout: 60) { $0.contains("[acme]  renew.example.test  certificate valid until") } != nil)
        // One keep-alive connection: a request now, one after the renewal.
        let script = try writeTemp("""
        import socket, ssl, sys
        ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", \(tlsPort))), server_hostname="renew.example.test")
        def get():
            s.sendall(b"GET / HTTP/1.1\\r\\nHost: renew.example.test\\r\\n\\r\\n")
            head = b""
            while b"\\r\\n\\r\\n" not in head: head += s.recv(1)
            n = int([l for l in head.split(b"\\r\\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
            body = b""
            while len(body) < n: body += s.recv(n - len(body))
            return head.split(b" ")[1].decode()
        print(get(), flush=True)
        sys.stdin.readline()
        print(get(), flush=True)
        """, name: "keepalive.py")
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        client.arguments = ["python3", script]
        let input = Pipe(), output = Pipe()
        client.standardInput = input
        client.standardOutput = output
        try client.run()
        // One line of the client's: availableData can come back empty while
        // the client is still up (seen under load), so read until the newline.
        func line() -> String {
            var got = Data()
            while !got.contains(UInt8(ascii: "\n")) {
                let d = output.fileHandleForReading.availableData
                if d.isEmpty && !client.isRunning { break }
                got += d
            }
            return String(decoding: got, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(line() == "200")
        let serial = { () throws -> String in
            try shell("echo | openssl s_client -connect 127.0.0.1:\(tlsPort) -servername renew.example.test 2>/dev/null | openssl x509 -noout -serial").1
        }
        let before = try serial()
        // Renewed two thirds into 15 s.
        let renewed = serve.waitForLine(timeout: 40) { l in
            serve.lines.filter { $0.contains("[acme]  renew.example.test  certificate valid until") }.count >= 2
        }
        #expect(renewed != nil, "\(serve.lines)")
        input.fileHandleForWriting.write(Data("go\n".utf8))
        #expect(line().hasPrefix("200"), "the open connection kept its certificate and stayed up")
        client.waitUntilExit()
        #expect(try serial() != before, "a new connection gets the renewed certificate")
        #expect(serve.terminate() == 0)
    }

    /// `on-demand ask`: a name no config names gets a certificate at its first
    /// handshake (which waits for it) if the ask endpoint allows it, with one
    /// order however many handshakes wait; a refused name's handshake goes on
    /// at once without one, and so does an allowed one over the hourly cap.
    @Test func onDemandNamesTheAskEndpointAllows() throws {
        let httpPort = PebbleServer.freePort(), tlsPort = PebbleServer.freePort(), askPort = PebbleServer.freePort()
        let pebble = try PebbleServer(httpPort: httpPort, tlsPort: tlsPort)
        let backend = try FixtureUpstream()
        let askScript = try writeTemp("""
        import http.server, urllib.parse
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                ok = q.get("domain", [""])[0] in ("allowed.example.test", "second.example.test", "third.example.test")
                self.send_response(200 if ok else 403)
                self.end_headers()
            def log_message(self, *a): pass
        http.server.HTTPServer(("127.0.0.1", \(askPort)), H).serve_forever()
        """, name: "ask.py")
        // Debian's python3 itself (not a wrapper that would outlive terminate()), its output nowhere.
        let ask = Process()
        ask.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        ask.arguments = [askScript]
        ask.standardOutput = FileHandle.nullDevice
        ask.standardError = FileHandle.nullDevice
        try ask.run()
        defer {
            kill(ask.processIdentifier, SIGKILL)  // SIGTERM may be blocked in what the test runner passes on
            ask.waitUntilExit()
        }
        let serve = try ServeProcess(config: """
        listen 127.0.0.1:\(httpPort)
        listen 127.0.0.1:\(tlsPort) tls auto
        workers 2
        acme {
            directory \(pebble.directory)
            ca-root \(pebble.caFile)
            on-demand ask http://127.0.0.1:\(askPort)/check per-hour 2
        }
        app any {
            upstream 127.0.0.1:\(backend.port)
        }
        """, waitForApps: false)
        defer { if serve.process.isRunning { _ = serve.terminate() } }
        for _ in 0..<50 where (try? shell("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:\(askPort)/check").1) != "403" { usleep(50_000) }
        let root = pebble.dir + "/root.pem"
        try pebble.issuingRoot().write(toFile: root, atomically: true, encoding: .utf8)
        func curl(_ name: String) throws -> (Int32, String) {
            try shell("curl -s --max-time 20 --cacert \(root) --resolve \(name):\(tlsPort):127.0.0.1 https://\(name):\(tlsPort)/")
        }
        // The first handshakes for an allowed name wait for its certificate (one
        // order for the four of them), then are served.
        let waiting = try (0..<4).map { i -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "curl -s --max-time 20 --cacert \(root) --resolve allowed.example.test:\(tlsPort):127.0.0.1 https://allowed.example.test:\(tlsPort)/ > \(serve.stateDir)/waiting\(i).out"]
            try p.run()
            return p
        }
        for (i, p) in waiting.enumerated() {
            p.waitUntilExit()
            let body = (try? String(contentsOfFile: "\(serve.stateDir)/waiting\(i).out", encoding: .utf8)) ?? ""
            #expect(p.terminationStatus == 0 && body.contains("\"method\""), "\(i): \(p.terminationStatus) \(serve.lines)")
        }
        #expect(serve.lines.contains { $0.contains("[acme]  allowed.example.test  on-demand: allowed") })
        #expect(serve.lines.filter { $0.contains("[acme]  allowed.example.test  requesting") }.count == 1, "\(serve.lines)")
        // A second allowed name fills the hourly cap of 2; a third allowed one is over it.
        #expect(try curl("second.example.test").1.contains("\"method\""))
        #expect(try curl("third.example.test").0 != 0, "over the cap: no certificate for it")
        #expect(serve.waitForLine(timeout: 10) { $0.contains("[acme]  third.example.test  on-demand: over 2 new names this hour") } != nil, "\(serve.lines)")
        #expect(!serve.lines.contains { $0.contains("third.example.test  requesting") })
        // A refused name is not ordered: its handshake goes on without a certificate for it.
        let refused = try curl("refused.example.test")
        #expect(refused.0 != 0, "no trusted certificate for a refused name")
        #expect(serve.waitForLine(timeout: 10) { $0.contains("[acme]  refused.example.test  on-demand: refused by the ask endpoint") } != nil)
        #expect(!serve.lines.contains { $0.contains("refused.example.test  requesting") })
        #expect(serve.terminate() == 0)
    }
    /// ACME Renewal Information (RFC 9773). pebble 2.4 has none, so a small
    /// front adds it: it serves pebble's directory with a `renewalInfo`
    /// resource of its own and answers a window an hour or two ahead, or
    /// one that has passed for the ids the test lists (as a CA does for a
    /// certificate about to be revoked). The window moves berth's renewal;
    /// a passed one renews at once, naming the certificate it replaces.
    @Test func renewalInformationMovesTheRenewal() throws {
        let httpPort = PebbleServer.freePort(), tlsPort = PebbleServer.freePort(), frontPort = PebbleServer.freePort()
        let pebble = try PebbleServer(httpPort: httpPort)
        let backend = try FixtureUpstream()
        let front = try writeTemp("""
        import datetime, http.server, json, os, ssl, sys, urllib.request
        pebble, cafile, port, dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
        ctx = ssl.create_default_context(cafile=cafile)
        def stamp(hours):
            return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
        class H(http.server.BaseHTTPRequestHandler):
            def answer(self, body, extra={}):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in extra.items(): self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
            def do_GET(self):
                if self.path == "/dir":
                    d = json.load(urllib.request.urlopen(pebble, context=ctx))
                    d["renewalInfo"] = "https://127.0.0.1:%d/renewal-info" % port
                    return self.answer(d)
                cert_id = self.path.rsplit("/", 1)[-1]
                with open(dir + "/asked", "a") as f: f.write(cert_id + "\\n")
                now = os.path.exists(dir + "/renew-now") and cert_id in open(dir + "/renew-now").read().split()
                window = {"start": stamp(-2), "end": stamp(-1)} if now else {"start": stamp(1), "end": stamp(2)}
                self.answer({"suggestedWindow": window}, {"Retry-After": "21600"})
            def log_message(self, *a): pass
        server = http.server.HTTPServer(("127.0.0.1", port), H)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cafile, os.path.dirname(cafile) + "/pebble-key.pem")  # pebble's own certificate, which ca-root trusts
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        server.serve_forever()
        """, name: "ari-front.py")
        let frontDir = pebble.dir + "/front"
        try FileManager.default.createDirectory(atPath: frontDir, withIntermediateDirectories: true)
        let ari = Process()
        ari.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        ari.arguments = [front, pebble.directory, pebble.caFile, "\(frontPort)", frontDir]
        ari.standardOutput = FileHandle.nullDevice
        ari.standardError = FileHandle.nullDevice
        try ari.run()
        defer {
            kill(ari.processIdentifier, SIGKILL)
            ari.waitUntilExit()
        }
        for _ in 0..<50 where (try? shell("curl -sf -o /dev/null --cacert \(pebble.caFile) https://127.0.0.1:\(frontPort)/dir").0) != 0 { usleep(50_000) }
        // The id computed apart from berth: openssl's AKI and serial, base64url'd.
        let idScript = try writeTemp("""
        import base64, subprocess, sys
        pem = open(sys.argv[1]).read().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\\n"
        out = subprocess.run(["openssl", "x509", "-noout", "-serial", "-ext", "authorityKeyIdentifier"],
                             input=pem.encode(), capture_output=True, check=True).stdout.decode().split("\\n")
        serial = [l for l in out if l.startswith("serial=")][0][len("serial="):]
        aki = [l.strip() for l in out if ":" in l and not l.startswith("serial=") and "Authority" not in l][0].replace("keyid:", "")
        s = bytes.fromhex(serial if len(serial) % 2 == 0 else "0" + serial)
        if s[0] & 0x80: s = b"\\0" + s
        b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
        print(b64(bytes.fromhex(aki.replace(":", ""))) + "." + b64(s))
        """, name: "ari-id.py")
        let config = """
        listen 127.0.0.1:\(httpPort)
        listen 127.0.0.1:\(tlsPort) tls auto
        workers 1
        acme {
            directory https://127.0.0.1:\(frontPort)/dir
            ca-root \(pebble.caFile)
            challenge http-01
        }
        app web {
            host ari.example.test
            upstream 127.0.0.1:\(backend.port)
        }
        """
        let chain = { (state: String) in state + "/acme/certs/ari.example.test/chain.pem" }
        func renewingAt(_ line: String?) -> Date? {
            guard let line, let r = line.range(of: "renewing at ") else { return nil }
            return ISO8601DateFormatter().date(from: String(line[r.upperBound...].prefix(20)))
        }
        let serve = try ServeProcess(config: config, waitForApps: false)
        defer { if serve.process.isRunning { _ = serve.terminate() } }
        #expect(serve.waitForLine(timeout: 60) { $0.contains("[acme]  ari.example.test  certificate valid until") } != nil, "\(serve.lines)")
        // pebble's years-long certificate renews within the CA's window, not in years.
        let moved = renewingAt(serve.waitForLine(timeout: 20) { $0.contains("[acme]  ari.example.test  renewal window from the CA") })
        let now = Date()
        #expect(moved.map { $0 > now.addingTimeInterval(3500) && $0 < now.addingTimeInterval(7300) } == true, "\(serve.lines)")
        let first = try shell("/usr/bin/python3 \(idScript) \(chain(serve.stateDir))").1.trimmingCharacters(in: .whitespacesAndNewlines)
        let asked = { (try? String(contentsOfFile: frontDir + "/asked", encoding: .utf8))?.split(separator: "\n").map(String.init) ?? [] }
        #expect(!first.isEmpty && asked() == [first], "the id of the certificate: \(first) vs \(asked())")
        #expect(serve.terminate() == 0)

        // The CA now wants that certificate replaced: the next serve renews it at once.
        try (first + "\n").write(toFile: frontDir + "/renew-now", atomically: true, encoding: .utf8)
        let orders = pebble.orderCount()
        let again = try ServeProcess(config: config, stateDir: serve.stateDir, waitForApps: false)
        defer { if again.process.isRunning { _ = again.terminate() } }
        let renewNow = renewingAt(again.waitForLine(timeout: 20) { $0.contains("[acme]  ari.example.test  renewal window from the CA") })
        #expect(renewNow.map { $0 <= Date() } == true, "\(again.lines)")
        #expect(again.waitForLine(timeout: 60) { $0.contains("[acme]  ari.example.test  certificate valid until") } != nil, "\(again.lines)")
        #expect(pebble.orderCount() == orders + 1)
        let second = try shell("/usr/bin/python3 \(idScript) \(chain(again.stateDir))").1.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(second != first && !second.isEmpty)
        // The new certificate's window is asked for too, and it is the future one: nothing more is ordered.
        #expect(again.waitForLine(timeout: 20) { l in again.lines.filter { $0.contains("renewal window from the CA") }.count >= 2 } != nil)
        #expect(eventually(5) { asked().last == second }, "\(asked())")
        let root = pebble.dir + "/root.pem"
        try pebble.issuingRoot().write(toFile: root, atomically: true, encoding: .utf8)
        let served = try shell("echo | openssl s_client -connect 127.0.0.1:\(tlsPort) -servername ari.example.test 2>/dev/null | openssl x509 -noout -serial").1
        let stored = try shell("openssl x509 -noout -serial -in \(chain(again.stateDir))").1
        #expect(served == stored && !served.isEmpty, "the renewed certificate is served")
        #expect(pebble.orderCount() == orders + 1)
        #expect(again.terminate() == 0)
    }
}
