import CBerthCurl
import Foundation

/// One HTTPS exchange with the CA through libcurl: status, headers (names
/// lower-cased) and body. `caFile` is the only trust when given (a private
/// CA, or the test CA).
struct ACMEHTTP: Sendable {
    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data

        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    var caFile: String?
    var timeout = 30

    func request(_ method: String, _ url: String, headers: [String] = [], body: Data? = nil) throws -> Response {
        final class Sink: @unchecked Sendable {
            var body = Data()
            var headers: [String: String] = [:]
        }
        let sink = Sink()
        var error = [CChar](repeating: 0, count: 256)
        let cHeaders = headers.map { strdup($0) }
        defer { cHeaders.forEach { free($0) } }
        let pointers = cHeaders.map { UnsafePointer($0) }
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }
        let status = pointers.withUnsafeBufferPointer { hp in
            (body ?? Data()).withUnsafeBytes { bp in
                cberth_http_request(method, url, hp.baseAddress, Int32(headers.count), bp.baseAddress, bp.count, caFile,
                                    timeout,
                                    { data, count, ctx in
                                        let s = Unmanaged<Sink>.fromOpaque(ctx!).takeUnretainedValue()
                                        s.body.append(UnsafeRawPointer(data!).assumingMemoryBound(to: UInt8.self), count: count)
                                        return count
                                    },
                                    { data, count, ctx in
                                        let s = Unmanaged<Sink>.fromOpaque(ctx!).takeUnretainedValue()
                                        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
                                        if let colon = line.firstIndex(of: ":") {
                                            let name = line[..<colon].lowercased()
                                            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                                            s.headers[name] = value
                                        }
                                        return count
                                    }, context.toOpaque(), &error)
            }
        }
        guard status >= 0 else {
            throw ACMEError("\(method) \(url): " + String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return Response(status: status, headers: sink.headers, body: sink.body)
    }
}
