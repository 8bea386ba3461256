import CBerthCurl
import Foundation

/// HTTP GETs for the registry client, through libcurl: a small response read
/// whole, or a blob streamed to a sink (written to disk and hashed as it comes).
enum RegistryHTTP {
    struct Response {
        var status: Int
        /// Headers of the final response, names lowercased.
        var headers: [String: String]
        var body: Data
    }

    /// GETs `url`; the body is kept in memory (manifests, tokens, configs are small).
    static func get(_ url: String, headers: [String]) throws(StoreError) -> Response {
        var body = Data()
        let (status, h) = try stream(url, headers: headers) { chunk in
            body.append(contentsOf: chunk)
            return body.count < 64 << 20
        }
        return Response(status: status, headers: h, body: body)
    }

    /// GETs `url`, handing each chunk of a 2xx body to `sink` (false stops the transfer).
    /// `statusSeen` is told each response's status as its headers start (before its body).
    static func stream(_ url: String, headers: [String], statusSeen: @escaping (Int) -> Void = { _ in },
                       sink: @escaping (UnsafeRawBufferPointer) -> Bool) throws(StoreError) -> (Int, [String: String]) {
        let call = Call(sink: sink, statusSeen: statusSeen)
        let (status, error) = perform(call, headers: headers) { hs, n, bodySink, headerSink, context, error in
            cberth_http_get(url, hs, n, 60, bodySink, headerSink, context, error)
        }
        if status < 0 {
            if call.aborted { throw StoreError("GET \(url): stopped: \(call.abortReason ?? "the download was refused")") }
            throw StoreError("GET \(url): \(error)")
        }
        return (status, call.headers)
    }

    /// One request with a method and a body (blob uploads, manifest PUTs,
    /// HEADs); redirects are not followed. The response body is kept (small).
    static func send(_ method: String, _ url: String, headers: [String], body: Data = Data()) throws(StoreError) -> Response {
        var received = Data()
        let call = Call(sink: { chunk in
            received.append(contentsOf: chunk)
            return received.count < 1 << 20
        }, statusSeen: { _ in })
        call.keepsEveryBody = true
        let (status, error) = body.withUnsafeBytes { b in
            perform(call, headers: headers) { hs, n, bodySink, headerSink, context, error in
                cberth_http_request(method, url, hs, n, b.baseAddress, b.count, nil, 300, bodySink, headerSink, context, error)
            }
        }
        if status < 0 { throw StoreError("\(method) \(url): \(error)") }
        return Response(status: status, headers: call.headers, body: received)
    }

    /// The C side of one transfer: `headers` as C strings, `call` reached from
    /// the sinks through an unretained pointer that lives for the call.
    /// Returns the status (or -1) and libcurl's error text.
    private static func perform(_ call: Call, headers: [String],
                                _ invoke: (UnsafePointer<UnsafePointer<CChar>?>, Int32, cberth_http_sink, cberth_http_sink,
                                           UnsafeMutableRawPointer, UnsafeMutablePointer<CChar>) -> Int) -> (Int, String) {
        var error = [CChar](repeating: 0, count: 256)
        let status: Int = withExtendedLifetime(call) {
            let context = Unmanaged.passUnretained(call).toOpaque()
            var cHeaders = headers.map { strdup($0) }
            defer { cHeaders.forEach { free($0) } }
            return cHeaders.withUnsafeMutableBufferPointer { hs in
                hs.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: hs.count) { p in
                    error.withUnsafeMutableBufferPointer { e in
                        invoke(p, Int32(hs.count), { data, count, ctx in
                            let call = Unmanaged<Call>.fromOpaque(ctx!).takeUnretainedValue()
                            return call.body(UnsafeRawBufferPointer(start: data, count: count)) ? count : 0
                        }, { data, count, ctx in
                            let call = Unmanaged<Call>.fromOpaque(ctx!).takeUnretainedValue()
                            call.header(String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self))
                            return count
                        }, context, e.baseAddress!)
                    }
                }
            }
        }
        return (status, String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// What one transfer collects; reached from the C callbacks through an
    /// unretained pointer that lives for the call (withExtendedLifetime).
    final class Call {
        let sink: (UnsafeRawBufferPointer) -> Bool
        let statusSeen: (Int) -> Void
        var headers: [String: String] = [:]
        var status = 0
        var aborted = false
        var abortReason: String?
        /// Error bodies too (a registry's JSON error explains a refusal).
        var keepsEveryBody = false

        init(sink: @escaping (UnsafeRawBufferPointer) -> Bool, statusSeen: @escaping (Int) -> Void) {
            self.sink = sink
            self.statusSeen = statusSeen
        }

        func header(_ line: String) {
            let l = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if l.hasPrefix("HTTP/") {
                // A new response (after a redirect or a 100): start over.
                headers = [:]
                status = Int(l.split(separator: " ").dropFirst().first ?? "") ?? 0
                statusSeen(status)
                return
            }
            guard let colon = l.firstIndex(of: ":") else { return }
            headers[l[..<colon].lowercased()] = l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }

        func body(_ chunk: UnsafeRawBufferPointer) -> Bool {
            // Redirect and error bodies are not the blob.
            guard keepsEveryBody || (status >= 200 && status < 300) else { return true }
            if sink(chunk) { return true }
            aborted = true
            return false
        }
    }
}
