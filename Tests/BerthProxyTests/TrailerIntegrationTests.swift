import Testing
import Foundation
import BerthConfig
@testable import BerthProxy

/// Chunked trailers cross the proxy: a response's go to clients that said
/// `TE: trailers` (and to HTTP/2 streams, as a trailing HEADERS frame),
/// a request's go to the upstream; framing fields in a trailer never do.
@Suite struct TrailerIntegrationTests {
    let apps = app("u", "/u", [UpstreamProcess.shared.port])

    @Test func responseTrailersGoToClientsThatAskForThem() throws {
        try withProxy(apps) { port in
            let asked = try request(port, "GET /u/trailers HTTP/1.1\r\nHost: h\r\nTE: trailers\r\n\r\n")
            #expect(asked.text == "hello")
            #expect(asked.trailers == ["X-Checksum: abc123"], "Content-Length never travels in a trailer: \(asked.trailers)")
            let plain = try request(port, "GET /u/trailers HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(plain.text == "hello")
            #expect(plain.trailers.isEmpty)
        }
    }

    @Test func requestTrailersGoToTheUpstream() throws {
        try withProxy(apps) { port in
            let r = try request(port, "POST /u/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sig: s1\r\nHost: evil\r\n\r\n")
            #expect(r.json["body_length"] as? Int == 3)
            #expect(r.json["trailers"] as? [String] == ["X-Sig: s1"], "\(r.text)")
        }
    }

    @Test func http2ClientsGetTrailersAsHeaders() throws {
        let text = "listen 127.0.0.1:0 h2c\nworkers 1\n\(apps)"
        let server = try ProxyServer(config: try Config.parse(text, file: "trailers.conf"))
        try server.start()
        defer { server.stop() }
        let (_, out) = try run(["nghttp", "-nv", "http://127.0.0.1:\(server.ports[0])/u/trailers"])
        // The HEADERS frame after the DATA carries the trailer and ends the stream.
        let tail = out.components(separatedBy: "recv DATA").last ?? ""
        #expect(tail.contains("recv HEADERS frame") && tail.contains("x-checksum: abc123") && tail.contains("END_STREAM"), "\(out)")
        #expect(!tail.contains("content-length: 99"), "\(out)")
    }
}
