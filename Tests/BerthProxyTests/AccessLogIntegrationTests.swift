import Testing
import Foundation

@Suite struct AccessLogIntegrationTests {
    @Test func oneJSONLinePerRequest() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("berth-access-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try withProxy(upstreamApp, extra: "access-log \(path)\n") { (port: Int) throws in
            _ = try request(port, "POST /u/echo?q=\"1\" HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-Request-Id: rid-7\r\n\r\nabc")
            _ = try request(port, "GET /missing HTTP/1.1\r\nHost: h\r\n\r\n")
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        #expect(first["method"] as? String == "POST")
        #expect(first["path"] as? String == "/u/echo?q=\"1\"")
        #expect(first["status"] as? Int == 200)
        #expect(first["app"] as? String == "u")
        #expect(first["upstream"] as? String == "127.0.0.1:\(UpstreamProcess.shared.port)")
        #expect(first["request_id"] as? String == "rid-7")
        #expect(first["client"] as? String == "127.0.0.1")
        #expect((first["bytes_in"] as? Int ?? 0) > 3)
        #expect((first["bytes_out"] as? Int ?? 0) > 100)
        #expect(first["duration_ms"] is Double || first["duration_ms"] is Int)
        #expect((first["time"] as? String)?.hasSuffix("Z") == true)
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as! [String: Any]
        #expect(second["status"] as? Int == 404)
        #expect(second["app"] is NSNull)
    }
}
