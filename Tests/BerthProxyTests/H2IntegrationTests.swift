import Testing
import Foundation
import BerthConfig
@testable import BerthProxy

/// HTTP/2 to clients: ALPN h2 on TLS listeners (h2=off keeps HTTP/1.1),
/// prior-knowledge h2c on `h2c` listeners, each stream proxied to the
/// HTTP/1.1 upstream as a request of its own; curl, nghttp, h2load and
/// Python's h2 (Debian's python3-h2) as clients.
@Suite struct H2IntegrationTests {
    let certs = TestCertificates.shared
    var apps: String { app("u", "/u", [UpstreamProcess.shared.port]) }

    func withH2(_ listen: String, _ body: (ProxyServer, Int) throws -> Void) throws {
        let text = "listen 127.0.0.1:0 \(listen)\nworkers 1\n\(apps)"
        let server = try ProxyServer(config: try Config.parse(text, file: "h2.conf"))
        try server.start()
        defer { server.stop() }
        try body(server, server.ports[0])
    }

    @Test func tlsListenersNegotiateH2AndProxyEachStream() throws {
        try withH2("tls cert=\(certs.cert("a.test")) key=\(certs.key("a.test"))") { _, port in
            let (status, out) = try run(["curl", "-s", "--http2", "--cacert", certs.cert("a.test"), "--resolve", "a.test:\(port):127.0.0.1",
                                         "-w", "\\n%{http_version}", "https://a.test:\(port)/u/echo"])
            #expect(status == 0)
            #expect(out.hasSuffix("\n2"), "ALPN h2: \(out)")
            #expect(out.contains("\"x-forwarded-proto\": \"https\"") || out.contains("X-Forwarded-Proto"), "\(out)")
            // A 1 MiB upload and download on one stream each.
            let blob = FileManager.default.temporaryDirectory.appendingPathComponent("h2-\(UUID().uuidString)").path
            try Data((0..<(1 << 20)).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: blob))
            let (_, up) = try run(["curl", "-s", "--http2", "--cacert", certs.cert("a.test"), "--resolve", "a.test:\(port):127.0.0.1",
                                   "--data-binary", "@\(blob)", "https://a.test:\(port)/u/echo"])
            #expect(up.contains("1048576"), "\(up.prefix(400))")
            let (_, down) = try run(["sh", "-c", "curl -s --http2 --cacert \(certs.cert("a.test")) --resolve a.test:\(port):127.0.0.1 'https://a.test:\(port)/u/bytes?n=1048576&mode=chunked' | wc -c"])
            #expect(down.trimmingCharacters(in: .whitespacesAndNewlines) == "1048576")
        }
    }

    @Test func h2OffKeepsHTTP11() throws {
        try withH2("tls cert=\(certs.cert("a.test")) key=\(certs.key("a.test")) h2=off") { _, port in
            let (_, out) = try run(["curl", "-s", "--http2", "--cacert", certs.cert("a.test"), "--resolve", "a.test:\(port):127.0.0.1",
                                    "-o", "/dev/null", "-w", "%{http_version}", "https://a.test:\(port)/u/echo"])
            #expect(out == "1.1")
        }
    }

    @Test func h2cPriorKnowledgeAndHTTP11OnOnePort() throws {
        try withH2("h2c") { _, port in
            let (_, h2) = try run(["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "http://127.0.0.1:\(port)/u/echo"])
            #expect(h2 == "2 200")
            let (_, h1) = try run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "http://127.0.0.1:\(port)/u/echo"])
            #expect(h1 == "1.1 200")
            let (_, nv) = try run(["nghttp", "-nv", "http://127.0.0.1:\(port)/u/status?code=204"])
            #expect(nv.contains(":status: 204"), "\(nv)")
            // Many streams on few connections: nothing lost.
            let (_, load) = try run(["h2load", "-n", "20000", "-c", "10", "-m", "16", "http://127.0.0.1:\(port)/u/status?code=200"])
            #expect(load.contains("20000 succeeded, 0 failed, 0 errored"), "\(load)")
        }
    }

    /// An informational head and the final one in one write of the inner
    /// connection: the 103 is not relayed, the 200 and its body are, once.
    @Test func anInformationalHeadFollowedAtOnceByTheFinalOne() throws {
        try withH2("h2c") { _, port in
            for _ in 0..<3 {
                let (_, out) = try run(["curl", "-s", "-i", "--http2-prior-knowledge", "http://127.0.0.1:\(port)/u/early-hints"])
                #expect(out.hasPrefix("HTTP/2 200") && out.contains("x-final: yes") && out.hasSuffix("\r\n\r\nhello"), "\(out)")
            }
        }
    }

    /// What the upstream sees of a stream's head: `:authority` as Host (a
    /// `host` field only when there is no `:authority`), `:path` in the
    /// request line, fields in order, TE only as `trailers`.
    @Test func aStreamsHeadBecomesTheUpstreamsHTTP11Head() throws {
        try withH2("h2c") { _, port in
            let (status, out) = try python("""
                \(Self.h2Client(validateOutbound: false))
                c.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":path", "/u/echo?q=1"), (":authority", "a.test"),
                                   ("host", "b.test"), ("x-one", "1"), ("te", "trailers"), ("x-two", "2")], end_stream=True)
                c.send_headers(3, [(":path", "/u/echo"), (":method", "DELETE"), (":scheme", "http"), ("host", "c.test")], end_stream=True)
                s.sendall(c.data_to_send())
                bodies, ended = {}, set()
                while len(ended) < 2:
                    d = s.recv(65535)
                    if not d: raise SystemExit("eof")
                    for e in c.receive_data(d):
                        if isinstance(e, h2.events.DataReceived):
                            bodies[e.stream_id] = bodies.get(e.stream_id, b"") + e.data
                            c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                        if isinstance(e, h2.events.StreamEnded): ended.add(e.stream_id)
                    s.sendall(c.data_to_send())
                for sid in (1, 3):
                    j = json.loads(bodies[sid])
                    hs = [(k.lower(), v) for k, v in j["headers"]]
                    names = [k for k, _ in hs]
                    print(j["method"], j["path"], [v for k, v in hs if k == "host"], [v for k, v in hs if k == "te"],
                          names.index("x-one") < names.index("x-two") if "x-one" in names else "-")
                """, port)
            #expect(status == 0, "\(out)")
            #expect(out == "GET /echo?q=1 ['a.test'] ['trailers'] True\nDELETE /echo ['c.test'] [] -\n", "\(out)")
        }
    }

    /// A stream and its inner HTTP/1.1 connection are reset and serve a
    /// later stream: nothing of the earlier exchange (its method, fields, body,
    /// a reset mid-upload, a chunked response) reaches the next one.
    @Test func recycledInnerConnectionsCarryNothingOver() throws {
        try withH2("h2c") { server, port in
            let (status, out) = try python("""
                \(Self.h2Client())
                def exchange(sid, headers, body=None, reset_after=None):
                    c.send_headers(sid, headers, end_stream=body is None)
                    if body is not None:
                        if reset_after is not None:
                            c.send_data(sid, body[:reset_after]); s.sendall(c.data_to_send())
                            c.reset_stream(sid); s.sendall(c.data_to_send())
                            return None
                        c.send_data(sid, body, end_stream=True)
                    s.sendall(c.data_to_send())
                    data, status = b"", None
                    while True:
                        d = s.recv(65535)
                        if not d: raise SystemExit("eof")
                        for e in c.receive_data(d):
                            if isinstance(e, h2.events.ResponseReceived) and e.stream_id == sid: status = dict(e.headers)[b":status"]
                            if isinstance(e, h2.events.DataReceived):
                                c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                                if e.stream_id == sid: data += e.data
                            if isinstance(e, h2.events.StreamEnded) and e.stream_id == sid:
                                s.sendall(c.data_to_send()); return status, data
                        s.sendall(c.data_to_send())
                base = [(":scheme", "http"), (":authority", "a.test")]
                st, _ = exchange(1, [(":method", "POST"), (":path", "/u/echo")] + base + [("content-length", "5"), ("x-one", "1")], b"hello")
                assert st == b"200", st
                exchange(3, [(":method", "PUT"), (":path", "/u/echo")] + base + [("x-two", "2")], b"x" * 100000, reset_after=1000)
                st, data = exchange(5, [(":method", "GET"), (":path", "/u/trailers")] + base + [("te", "trailers")])
                assert st == b"200" and data == b"hello", (st, data)
                for sid in (7, 9, 11):
                    st, data = exchange(sid, [(":method", "GET"), (":path", "/u/echo?n=%d" % sid)] + base + [("x-three", "3")])
                    j = json.loads(data)
                    names = sorted(k.lower() for k, _ in j["headers"] if not k.lower().startswith("x-forwarded-") and k.lower() not in ("x-request-id", "forwarded", "via"))
                    print(st.decode(), j["method"], j["path"], j["body_length"], names)
                """, port)
            #expect(status == 0, "\(out)")
            for n in [7, 9, 11] {
                #expect(out.contains("200 GET /echo?n=\(n) 0 ['host', 'x-three']\n"), "\(out)")
            }
            #expect(server.workers[0].recycledStreamConnections >= 4, "later streams were served by recycled inner connections")
            #expect(server.workers[0].recycledStreams >= 4, "and were recycled streams themselves")
        }
    }

    @Test func aPlainListenerRefusesThePreface() throws {
        try withH2("") { _, port in
            let c = try RawClient(port: port)
            c.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            #expect(try c.readResponse().status == 505)
        }
    }

    /// Python's h2: a body whose length matches what the upstream said, a
    /// request reset mid-upload leaves the connection serving others, and an
    /// oversize header list is refused (431) without ending the connection.
    @Test func edgeCasesWithPythonH2() throws {
        try withH2("h2c") { _, port in
            let script = """
            \(Self.h2Client())
            def run(until):
                got = {}
                while not until(got):
                    d = s.recv(65535)
                    if not d: raise SystemExit("eof")
                    for e in c.receive_data(d):
                        if isinstance(e, h2.events.ResponseReceived): got.setdefault(e.stream_id, {})["status"] = dict(e.headers)[b":status"].decode()
                        if isinstance(e, h2.events.DataReceived):
                            got.setdefault(e.stream_id, {}).setdefault("len", 0); got[e.stream_id]["len"] += len(e.data)
                            c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                        if isinstance(e, h2.events.StreamEnded): got.setdefault(e.stream_id, {})["ended"] = True
                        if isinstance(e, h2.events.StreamReset): got.setdefault(e.stream_id, {})["reset"] = True
                    s.sendall(c.data_to_send())
                return got
            h = lambda p, m="GET": [(":method", m), (":path", p), (":scheme", "http"), (":authority", "x")]
            # 1: an upload reset halfway
            c.send_headers(1, h("/u/echo", "POST"))
            c.send_data(1, b"x" * 1000)
            c.reset_stream(1)
            # 3: an oversize header list
            c.send_headers(3, h("/u/echo") + [("x-big", "y" * 40000)], end_stream=True)
            # 5: a normal request after both
            c.send_headers(5, h("/u/bytes?n=100000"), end_stream=True)
            s.sendall(c.data_to_send())
            got = run(lambda g: g.get(5, {}).get("ended") and (g.get(3, {}).get("ended") or g.get(3, {}).get("reset")))
            print(got.get(3, {}).get("status", "reset"), got[5]["status"], got[5]["len"])
            """
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("h2edge-\(UUID().uuidString).py").path
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            let (status, out) = try run(["/usr/bin/python3", path, "\(port)"])
            #expect(status == 0, "\(out)")
            #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "431 200 100000", "\(out)")
        }
    }

    /// Runs a Python h2 client script (Debian's python3 has python3-h2) against `port`; its output.
    /// The start of the Python h2 scripts here: `s` the socket to berth
    /// (port in argv[1]), `c` the client connection, its preface sent.
    static func h2Client(validateOutbound: Bool = true) -> String {
        """
        import socket, sys, json, h2.connection, h2.events, h2.config
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True\(validateOutbound ? "" : ", validate_outbound_headers=False")))
        c.initiate_connection(); s.sendall(c.data_to_send())
        """
    }

    func python(_ script: String, _ port: Int, _ more: String...) throws -> (Int32, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("h2py-\(UUID().uuidString).py").path
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        return try run(["/usr/bin/python3", path, "\(port)"] + more)
    }

    /// Rapid reset (CVE-2023-44487): 10,000 streams opened and reset at once
    /// end with GOAWAY ENHANCE_YOUR_CALM, and the worker goes on serving.
    @Test func rapidResetIsCutOffAndTheWorkerStaysHealthy() throws {
        try withH2("h2c") { _, port in
            let (status, out) = try python("""
                \(Self.h2Client())
                h = [(":method", "GET"), (":path", "/u/echo"), (":scheme", "http"), (":authority", "x")]
                for i in range(10000):
                    sid = 1 + 2 * i
                    c.send_headers(sid, h, end_stream=True)
                    c.reset_stream(sid)
                try:
                    s.sendall(c.data_to_send())
                except OSError:
                    pass
                code = None
                try:
                    while code is None:
                        d = s.recv(65535)
                        if not d: break
                        for e in c.receive_data(d):
                            if isinstance(e, h2.events.ConnectionTerminated): code = int(e.error_code)
                except Exception as ex:
                    pass
                print(code)
                """, port)
            #expect(status == 0, "\(out)")
            #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "11", "GOAWAY ENHANCE_YOUR_CALM (0xb): \(out)")
            let (_, after) = try run(["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/u/echo"])
            #expect(after == "200")
        }
    }

    /// A drain (SIGTERM, or the old serve of an upgrade): GOAWAY, and the
    /// stream in flight finishes (curl; Python's h2 drops a connection's
    /// streams at GOAWAY, against RFC 9113 §6.8).
    @Test func drainSendsGoAwayAndTheOpenStreamFinishes() throws {
        let text = "listen 127.0.0.1:0 h2c\nworkers 1\n\(apps)"
        let server = try ProxyServer(config: try Config.parse(text, file: "h2.conf"))
        try server.start()
        let port = server.ports[0]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-sv", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_version} %{http_code}\n", "http://127.0.0.1:\(port)/u/slow?delay=1"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Wait until the stream is on its upstream.
        let deadline = Date().addingTimeInterval(5)
        while server.snapshot().reduce(0, { $0 + $1.upstreamConnections }) == 0 && Date() < deadline { usleep(5_000) }
        #expect(server.drainAll(timeout: 10), "drained in time")
        p.waitUntilExit()
        let result = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(result == "2 200\n", "\(result) \(log.suffix(600))")
        #expect(log.contains("GOAWAY") || log.contains("goaway"), "curl saw the GOAWAY: \(log.suffix(600))")
    }

    /// A preface that never completes is closed at the header timeout; the
    /// worker serves others meanwhile.
    @Test func aPrefaceThatNeverCompletesIsClosedAtTheHeaderTimeout() throws {
        let text = "listen 127.0.0.1:0 h2c\nworkers 1\ntimeouts {\n header 1s\n}\n\(apps)"
        let server = try ProxyServer(config: try Config.parse(text, file: "h2.conf"))
        try server.start()
        defer { server.stop() }
        let port = server.ports[0]
        let c = try RawClient(port: port)
        let start = Date()
        c.send("PRI * HTTP/2.0\r\n")  // and nothing more
        let (_, other) = try run(["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/u/echo"])
        #expect(other == "200")
        _ = c.readToEOF()
        let waited = Date().timeIntervalSince(start)
        #expect(waited > 0.8 && waited < 5, "closed after \(waited) s")
    }

    /// A stream window of 0: the response waits (nothing buffered past the
    /// window), and comes whole once the client opens the window.
    @Test func aZeroWindowHoldsTheBodyUntilOpened() throws {
        try withH2("h2c") { _, port in
            let (status, out) = try python("""
                import socket, sys, time, h2.connection, h2.events, h2.config, h2.settings
                s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
                c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
                c.initiate_connection()
                c.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
                c.send_headers(1, [(":method", "GET"), (":path", "/u/bytes?n=100000"), (":scheme", "http"), (":authority", "x")], end_stream=True)
                s.sendall(c.data_to_send())
                got, ended, status = 0, False, None
                s.settimeout(0.2)
                def pump():
                    global got, ended, status
                    try:
                        d = s.recv(65535)
                    except socket.timeout:
                        return
                    for e in c.receive_data(d):
                        if isinstance(e, h2.events.ResponseReceived): status = dict(e.headers)[b":status"].decode()
                        if isinstance(e, h2.events.DataReceived):
                            got += len(e.data)
                            c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                        if isinstance(e, h2.events.StreamEnded): ended = True
                    s.sendall(c.data_to_send())
                end = time.time() + 1
                while time.time() < end: pump()
                held = got
                c.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 65535})
                s.sendall(c.data_to_send())
                end = time.time() + 10
                while not ended and time.time() < end: pump()
                print(status, held, got, ended)
                """, port)
            #expect(status == 0, "\(out)")
            #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "200 0 100000 True", "\(out)")
        }
    }

    /// A PING or SETTINGS flood from a client that never reads its ACKs
    /// (CVE-2019-9512, CVE-2019-9515): the connection is closed (nghttp2's
    /// outbound-ACK limit), the worker serves others.
    @Test(arguments: ["ping", "settings"]) func aFloodOfFramesToAcknowledgeIsCutOff(_ frame: String) throws {
        try withH2("h2c") { _, port in
            let (status, out) = try python("""
                import socket, sys, h2.connection, h2.config
                s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
                c.initiate_connection(); s.sendall(c.data_to_send())
                empty_settings = bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
                closed = False
                try:
                    for i in range(200000):
                        if sys.argv[2] == "ping":
                            c.ping(i.to_bytes(8, "big"))
                        if i % 1000 == 999:
                            s.sendall(c.data_to_send() if sys.argv[2] == "ping" else empty_settings * 1000)
                except OSError:
                    closed = True
                if not closed:
                    s.settimeout(5)
                    try:
                        while s.recv(65535): pass
                        closed = True  # EOF
                    except socket.timeout:
                        closed = False  # still open after 5 s of silence
                    except OSError:
                        closed = True  # reset
                print("closed" if closed else "open")
                """, port, frame)
            #expect(status == 0, "\(out)")
            #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "closed", "\(out)")
            let (_, after) = try run(["curl", "-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/u/echo"])
            #expect(after == "200")
        }
    }

    /// The last stream id a client may use (2^31-1) is served; a client
    /// needs a new connection after it, and berth's own upstream sessions
    /// open a new one when nghttp2 says the ids are used up.
    @Test func theLastStreamIDIsServed() throws {
        try withH2("h2c") { _, port in
            let (status, out) = try python("""
                \(Self.h2Client())
                sid = 2**31 - 1
                c.send_headers(sid, [(":method", "GET"), (":path", "/u/status?code=204"), (":scheme", "http"), (":authority", "x")], end_stream=True)
                s.sendall(c.data_to_send())
                s.settimeout(5)
                while True:
                    data = s.recv(65535)
                    if not data: raise SystemExit("closed")
                    for e in c.receive_data(data):
                        if isinstance(e, h2.events.ResponseReceived):
                            print(dict(e.headers)[b":status"].decode()); raise SystemExit(0)
                    s.sendall(c.data_to_send())
                """, port)
            #expect(status == 0, "\(out)")
            #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "204")
        }
    }
}
