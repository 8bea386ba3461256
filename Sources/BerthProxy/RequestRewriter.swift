import BerthHTTP

/// Writes the request head berth sends upstream: origin-form target with the
/// route's prefix stripped, hop-by-hop fields removed, X-Forwarded-* and
/// X-Request-Id added, one Content-Length made from the parsed framing.
/// Other header lines that pass through are copied byte for byte.
enum RequestRewriter {
    struct Context {
        var clientAddress: [UInt8]
        var upstreamName: [UInt8]
        var chunked: Bool
        /// The request came over TLS (X-Forwarded-Proto: https).
        var tls = false
    }

    /// Returns where the X-Request-Id value sits in `out` (for the access log).
    static func write(_ head: RequestHead, _ b: UnsafeRawBufferPointer, route: Route, context: Context,
                      ids: inout RequestIDGenerator, into out: ByteBuffer) -> ByteRange {
        out.append(UnsafeRawBufferPointer(rebasing: b[head.start..<head.methodEnd]))
        out.append(byte: 0x20)
        var pathStart = head.path.start
        if route.stripPrefix { pathStart += route.path.count }
        if pathStart == head.path.end { out.append(byte: UInt8(ascii: "/")) }
        out.append(UnsafeRawBufferPointer(rebasing: b[pathStart..<head.target.end]))
        out.append(" HTTP/1.1\r\n")

        let tokens = head.semantics.connectionTokens
        var forwardedFor: [ByteRange] = []
        var requestID: ByteRange?
        for h in head.headers {
            switch h.kind {
            case .connection, .keepAlive, .proxyConnection, .transferEncoding, .trailer,
                 .xForwardedProto, .xForwardedHost, .xForwardedPrefix, .contentLength:
                continue
            case .upgrade:
                if !head.isUpgrade { continue }
            case .te:
                if !ByteClass.equalsLowercase(UnsafeRawBufferPointer(rebasing: b[h.valueStart..<h.valueEnd]), "trailers") { continue }
            case .host:
                if head.authority != nil { continue }
            case .xForwardedFor:
                if h.valueEnd > h.valueStart { forwardedFor.append(ByteRange(start: h.valueStart, end: h.valueEnd)) }
                continue
            case .xRequestId:
                if requestID == nil && h.valueEnd > h.valueStart {
                    let at = out.readableBytes + (h.valueStart - h.lineStart)
                    requestID = ByteRange(start: at, end: at + h.valueLength)
                }
            case .other:
                if !tokens.isEmpty && listed(b, h, tokens) { continue }
            default:
                break
            }
            out.append(UnsafeRawBufferPointer(rebasing: b[h.lineStart..<h.lineEnd]))
        }

        let host = head.host
        if let authority = head.authority {
            out.append("Host: ")
            out.append(UnsafeRawBufferPointer(rebasing: b[authority.start..<authority.end]))
            out.append("\r\n")
        } else if host == nil {
            out.append("Host: ")
            out.append(context.upstreamName)
            out.append("\r\n")
        }
        // Exactly one Content-Length, whatever agreeing forms came in (two
        // identical lines, `5, 5`): RFC 9112 §6.3 lets a recipient accept
        // agreeing values only if it then sends one.
        if head.semantics.contentLength >= 0 && !context.chunked {
            out.append("Content-Length: ")
            out.appendDecimal(head.semantics.contentLength)
            out.append("\r\n")
        }
        if context.chunked { out.append("Transfer-Encoding: chunked\r\n") }
        if head.isUpgrade { out.append("Connection: upgrade\r\n") }
        out.append("X-Forwarded-For: ")
        for r in forwardedFor {
            out.append(UnsafeRawBufferPointer(rebasing: b[r.start..<r.end]))
            out.append(", ")
        }
        out.append(context.clientAddress)
        out.append(context.tls ? "\r\nX-Forwarded-Proto: https\r\n" : "\r\nX-Forwarded-Proto: http\r\n")
        if let host, host.count > 0 {
            out.append("X-Forwarded-Host: ")
            out.append(UnsafeRawBufferPointer(rebasing: b[host.start..<host.end]))
            out.append("\r\n")
        }
        if route.stripPrefix {
            out.append("X-Forwarded-Prefix: ")
            out.append(route.path)
            out.append("\r\n")
        }
        if requestID == nil {
            out.append("X-Request-Id: ")
            let at = out.readableBytes
            ids.appendNext(to: out)
            requestID = ByteRange(start: at, end: out.readableBytes)
            out.append("\r\n")
        }
        out.append("\r\n")
        return requestID!
    }

    /// Whether the field's name is one the Connection header listed.
    static func listed(_ b: UnsafeRawBufferPointer, _ h: HeaderField, _ tokens: [ByteRange]) -> Bool {
        let n = h.nameEnd - h.lineStart
        for t in tokens where t.count == n {
            var same = true
            for i in 0..<n where ByteClass.lower(b[h.lineStart + i]) != ByteClass.lower(b[t.start + i]) {
                same = false
                break
            }
            if same { return true }
        }
        return false
    }
}
