import Testing
import BerthRouting
@testable import BerthProxy

/// The client connection's logic with no socket: a worker on an in-memory
/// network, the test playing both the client and the upstream, byte by byte.
@Suite struct ClientConnectionTests {
    let upstreamApp = app("u", "/u", [9001])

    /// Sends `request`, lets berth forward it, and answers `response` as the upstream.
    func exchange(_ p: MemoryProxy, _ client: MemoryPipe, _ request: String, _ response: String, upstream n: Int = 1) throws -> String {
        client.send(request)
        p.run()
        let up = try p.upstream(n)
        let forwarded = up.takeText()
        up.send(response)
        p.run()
        return forwarded
    }

    @Test func keepAliveReusesTheClientAndThePooledUpstream() throws {
        let p = try MemoryProxy(upstreamApp)
        let client = p.connect()
        let first = try exchange(p, client, "GET /u/a HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        #expect(first.hasPrefix("GET /a HTTP/1.1\r\n"))
        #expect(first.contains("X-Forwarded-Prefix: /u\r\n") && first.contains("X-Request-Id: "))
        #expect(try client.readResponse().text == "ok")
        _ = try exchange(p, client, "GET /u/b HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes")
        #expect(try client.readResponse().text == "yes")
        #expect(p.net.dialed.count == 1)  // the pooled upstream connection served both
        #expect(!client.closed)
        // Idle now: after the worker's sweep the client connection and the
        // parked upstream hold no buffer.
        #expect(p.worker.buffers.inUse > 0)
        p.worker.sweep()
        #expect(p.worker.buffers.inUse == 0)
        p.checkInvariants()
    }

    /// A client that sent `Connection: close` sends nothing more: it is not
    /// watched while its answer comes, and once answered it is closed at
    /// once (a FIN), without waiting for its own FIN first.
    @Test func aClientThatAskedToCloseIsClosedOnceAnswered() throws {
        let p = try MemoryProxy(upstreamApp)
        let client = p.connect()
        let forwarded = try exchange(p, client, "GET /u/a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        #expect(forwarded.hasPrefix("GET /a HTTP/1.1\r\n"))
        let answer = try client.readResponse()
        #expect(answer.text == "ok" && answer.header("Connection") == "close")
        #expect(client.closed && !client.peerClosed, "closed without the client's FIN")
        p.checkInvariants()
    }

    /// While a `Connection: close` request's answer is awaited the client is
    /// not read (nothing but its FIN can come); a keep-alive client is.
    @Test func aClosingClientIsNotWatchedWhileItsAnswerComes() throws {
        let p = try MemoryProxy(upstreamApp)
        let closing = p.connect()
        closing.send("GET /u/a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        p.run()
        #expect(!closing.wantsRead)
        let keeping = p.connect()
        keeping.send("GET /u/b HTTP/1.1\r\nHost: h\r\n\r\n")
        p.run()
        #expect(keeping.wantsRead)
        for n in 1...2 {
            try p.upstream(n).send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        }
        p.run()
        #expect(try closing.readResponse().text == "ok" && keeping.readResponse().text == "ok")
        p.checkInvariants()
    }

    /// When berth decides to close (here: a 404 for a request whose body
    /// has not come yet), the client may still be sending: berth half-closes
    /// and reads until the client's FIN, so the body in flight cannot turn
    /// the close into a reset.
    @Test func aCloseBerthDecidedLingersForTheClientsFIN() throws {
        let p = try MemoryProxy(upstreamApp)
        let client = p.connect()
        client.send("POST /nowhere HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n")
        p.run()
        #expect(try client.readResponse().status == 404)
        #expect(client.berthShutWrite && !client.closed, "half-closed, waiting for the client")
        client.send("hello")
        client.close()
        p.run()
        #expect(client.closed)
        p.checkInvariants()
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let p = try MemoryProxy(upstreamApp)
        let client = p.connect()
        client.send("GET /u/1 HTTP/1.1\r\nHost: h\r\n\r\nGET /u/2 HTTP/1.1\r\nHost: h\r\n\r\n")
        p.run()
        let up = try p.upstream()
        let first = up.takeText()
        #expect(first.hasPrefix("GET /1 HTTP/1.1") && !first.contains("GET /2"))  // one at a time
        up.send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")
        p.run()
        #expect(up.takeText().hasPrefix("GET /2 HTTP/1.1"))
        up.send("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")
        p.run()
        #expect(try client.readResponse().text == "first")
        #expect(try client.readResponse().text == "second")
        p.checkInvariants()
    }

    @Test func expectContinueIsRelayedThenTheBodyForwarded() throws {
        let p = try MemoryProxy(upstreamApp)
        let client = p.connect()
        client.send("POST /u/up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        p.run()
        let up = try p.upstream()
        #expect(up.takeText().contains("Expect: 100-continue"))
        up.send("HTTP/1.1 100 Continue\r\n\r\n")
        p.run()
        #expect(try client.readResponse(keepInterim: true).status == 100)
        client.send("hello")
        p.run()
        #expect(up.takeText() == "hello")
        up.send("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
        p.run()
        #expect(try client.readResponse().status == 201)
        p.checkInvariants()
    }

    /// HEAD, 204 and 304 carry no body whatever their headers say, and the
    /// connection goes on to the next request.
    @Test func headAnd204And304HaveNoBody() throws {
        let p = try MemoryProxy(upstreamApp)
        let client = p.connect()
        _ = try exchange(p, client, "HEAD /u/x HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        let head = try client.readResponse(method: "HEAD")
        #expect(head.status == 200 && head.header("Content-Length") == "5" && client.buffer.isEmpty)
        _ = try exchange(p, client, "GET /u/n HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n")
        #expect(try client.readResponse().status == 204 && client.buffer.isEmpty)
        _ = try exchange(p, client, "GET /u/m HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"e\"\r\n\r\n",
                         "HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n\r\n")
        #expect(try client.readResponse().status == 304 && client.buffer.isEmpty)
        _ = try exchange(p, client, "GET /u/z HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast")
        #expect(try client.readResponse().text == "last")
        #expect(p.net.dialed.count == 1)
        p.checkInvariants()
    }

    /// A chunked response cut at every byte: the client gets it whole, re-chunked.
    @Test func chunkedResponseSplitAtEveryByteBoundary() throws {
        let response = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n".utf8)
        for cut in 1..<response.count {
            let p = try MemoryProxy(upstreamApp)
            let client = p.connect()
            client.send("GET /u/c HTTP/1.1\r\nHost: h\r\n\r\n")
            p.run()
            let up = try p.upstream()
            up.send(response[..<cut])
            p.run()
            up.send(response[cut...])
            p.run()
            let r = try client.readResponse()
            #expect(r.status == 200 && r.text == "hello world", "cut at \(cut)")
            p.checkInvariants()
        }
    }

    /// A chunked request cut at every byte: the upstream gets the same body.
    @Test func chunkedRequestSplitAtEveryByteBoundary() throws {
        let request = Array("POST /u/c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n".utf8)
        let head = request.count - "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n".utf8.count
        for cut in head..<request.count {
            let p = try MemoryProxy(upstreamApp)
            let client = p.connect()
            client.send(request[..<cut])
            p.run()
            client.send(request[cut...])
            p.run()
            let up = try p.upstream()
            let got = up.takeText()
            let body = got[got.range(of: "\r\n\r\n")!.upperBound...]
            #expect(Self.dechunk(String(body)) == "abcdefg", "cut at \(cut): \(body.debugDescription)")
            up.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            p.run()
            #expect(try client.readResponse().status == 200)
            p.checkInvariants()
        }
    }

    /// The body of a chunked message, or nil when it is not well formed.
    static func dechunk(_ s: String) -> String? {
        var rest = Array(s.utf8)[...], out: [UInt8] = []
        while let cr = rest.firstIndex(of: 0x0D), rest.index(after: cr) < rest.endIndex, rest[rest.index(after: cr)] == 0x0A {
            let line = String(decoding: rest[..<cr], as: UTF8.self)
            guard let sizeText = line.split(separator: ";").first, let size = Int(sizeText, radix: 16) else { return nil }
            rest = rest[(cr + 2)...]
            if size == 0 { return Array(rest) == [0x0D, 0x0A] ? String(decoding: out, as: UTF8.self) : nil }
            guard rest.count >= size + 2 else { return nil }
            out += rest.prefix(size)
            rest = rest.dropFirst(size + 2)
        }
        return nil
    }

    @Test func upgradeTunnelsBytesBothWays() throws {
        let p = try MemoryProxy(upstreamApp)
        let client = p.connect()
        let forwarded = try exchange(p, client, "GET /u/ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
                                     "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        #expect(forwarded.contains("Upgrade: websocket"))
        #expect(try client.readResponse().status == 101)
        let up = try p.upstream()
        client.send([0x81, 0x02, 0x68, 0x69])
        p.run()
        #expect(up.takeBytes() == [0x81, 0x02, 0x68, 0x69])
        up.send("from the server")
        p.run()
        #expect(client.takeText() == "from the server")
        client.close()  // the client ends the tunnel: berth closes both sides
        p.run()
        #expect(up.closed)
        p.checkInvariants()
    }

    @Test func upstreamClosingBeforeTheHeadIs502() throws {
        let p = try MemoryProxy(upstreamApp)
        let client = p.connect()
        client.send("GET /u/x HTTP/1.1\r\nHost: h\r\n\r\n")
        p.run()
        try p.upstream().close()
        p.run()
        #expect(try client.readResponse().status == 502)
        p.checkInvariants()
    }

    @Test func upstreamClosingAfterTheHeadClosesTheClient() throws {
        let p = try MemoryProxy(upstreamApp)
        let client = p.connect()
        client.send("GET /u/x HTTP/1.1\r\nHost: h\r\n\r\n")
        p.run()
        let up = try p.upstream()
        up.send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        up.close()
        p.run()
        // The response can't be completed: the client gets what came, then
        // FIN (berth reads and discards until the client closes).
        #expect(client.berthShutWrite && up.closed)
        #expect(client.takeText().hasSuffix("\r\n\r\nabc"))
        client.close()
        p.run()
        #expect(client.closed)
        p.checkInvariants()
    }

    @Test func clientClosingMidBodyClosesTheUpstream() throws {
        let p = try MemoryProxy(upstreamApp)
        let client = p.connect()
        client.send("POST /u/x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
        p.run()
        let up = try p.upstream()
        #expect(up.takeText().hasSuffix("\r\n\r\nabc"))
        client.close()
        p.run()
        #expect(up.closed && client.closed)
        p.checkInvariants()
    }

    /// A container app that is starting holds the request (no upstream is
    /// opened) until its first replica is routed, then serves it.
    @Test func heldWhileStartingThenServed() throws {
        let p = try MemoryProxy("app c {\n path /c\n build apps/c\n}\n", routing: ["c": .starting])
        let client = p.connect()
        client.send("GET /c/x HTTP/1.1\r\nHost: h\r\n\r\n")
        p.run()
        #expect(p.net.dialed.isEmpty && client.buffer.isEmpty)
        #expect(p.worker.held.count == 1)
        try p.route(["c": .ready([Placement(netns: nil, port: 9100)])])
        p.run()
        let up = try p.upstream()
        #expect(p.net.dialed[0].server == "127.0.0.1:9100")
        #expect(up.takeText().hasPrefix("GET /x HTTP/1.1"))
        up.send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nready")
        p.run()
        #expect(try client.readResponse().text == "ready")
        p.checkInvariants()
    }

    /// A hold that times out answers 503 and keeps the connection: the next
    /// request on it is read (reading was off while it was held).
    @Test func heldRequestThatTimesOutIs503AndTheConnectionGoesOn() throws {
        let p = try MemoryProxy("app c {\n path /c\n build apps/c\n}\n", routing: ["c": .starting])
        let client = p.connect()
        client.send("GET /c/x HTTP/1.1\r\nHost: h\r\n\r\n")
        p.run()
        let held = try #require(p.worker.held.first)
        p.worker.held.removeAll()
        held.deadlinePassed()  // `timeouts { start }` passed
        p.run()
        let r = try client.readResponse()
        #expect(r.status == 503 && r.header("Retry-After") == "5")
        #expect(!client.closed && client.wantsRead)
        client.send("GET /c/y HTTP/1.1\r\nHost: h\r\n\r\n")
        p.run()
        #expect(p.worker.held.count == 1)  // read, and held again
        try p.route(["c": .ready([Placement(netns: nil, port: 9100)])])
        p.run()
        let up = try p.upstream()
        #expect(up.takeText().hasPrefix("GET /y HTTP/1.1"))
        up.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        p.run()
        #expect(try client.readResponse().text == "ok")
        p.checkInvariants()
    }

    /// The only server refuses: nothing was sent, so the client gets a 502
    /// at once (a plain upstream app does not hold).
    @Test func refusedUpstreamIs502() throws {
        let p = try MemoryProxy(upstreamApp)
        p.net.refusing = ["127.0.0.1:9001"]
        let client = p.connect()
        client.send("GET /u/x HTTP/1.1\r\nHost: h\r\n\r\n")
        p.run()
        #expect(try client.readResponse().status == 502)
        p.checkInvariants()
    }
}
