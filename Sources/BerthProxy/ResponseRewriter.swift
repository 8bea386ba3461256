import BerthHTTP

/// Writes the response head berth sends a client: the upstream's status line
/// and end-to-end fields as they were, with hop-by-hop fields replaced by the
/// framing and connection handling of the client's side.
enum ResponseRewriter {
    enum ConnectionField {
        case none, close, keepAlive, upgrade
    }

    static func write(_ head: ResponseHead, _ b: UnsafeRawBufferPointer, chunked: Bool,
                      connection: ConnectionField, into out: ByteBuffer) {
        out.append("HTTP/1.1")
        out.append(UnsafeRawBufferPointer(rebasing: b[8..<head.statusLineEnd]))
        for h in head.headers where forwards(h, of: head, b, chunked: chunked, upgrade: connection == .upgrade) {
            out.append(UnsafeRawBufferPointer(rebasing: b[h.lineStart..<h.lineEnd]))
        }
        if chunked { out.append("Transfer-Encoding: chunked\r\n") }
        switch connection {
        case .none: break
        case .close: out.append("Connection: close\r\n")
        case .keepAlive: out.append("Connection: keep-alive\r\n")
        case .upgrade: out.append("Connection: upgrade\r\n")
        }
        out.append("\r\n")
    }

    /// Whether the upstream's field `h` goes to the client: not the
    /// hop-by-hop ones (nor those its Connection field lists), nor a length
    /// when the body is re-framed as chunks. The same for HTTP/1.1 and HTTP/2 clients.
    @inline(__always)
    static func forwards(_ h: HeaderField, of head: ResponseHead, _ b: UnsafeRawBufferPointer, chunked: Bool, upgrade: Bool) -> Bool {
        switch h.kind {
        case .connection, .keepAlive, .proxyConnection, .transferEncoding, .te, .trailer:
            return false
        case .upgrade:
            return upgrade
        case .contentLength:
            return !chunked
        case .other:
            let tokens = head.semantics.connectionTokens
            return tokens.isEmpty || !RequestRewriter.listed(b, h, tokens)
        default:
            return true
        }
    }
}

/// Responses berth makes itself (404, 408, 413, 502, ...): a short text body.
enum LocalResponse {
    /// `headOnly` answers a HEAD request: the same head, no body.
    static func write(status: Int, close: Bool, http10KeepAlive: Bool, headOnly: Bool = false,
                      extraHeaders: StaticString = "", location: String? = nil, into out: ByteBuffer) {
        let reason = HTTPStatus.reason(status)
        out.append("HTTP/1.1 ")
        out.appendDecimal(status)
        out.append(byte: 0x20)
        out.append(reason)
        out.append("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ")
        out.appendDecimal(reason.utf8CodeUnitCount + 5)
        out.append("\r\n")
        out.append(extraHeaders)
        if let location {
            out.append("Location: ")
            out.appendString(location)
            out.append("\r\n")
        }
        appendConnection(close: close, http10KeepAlive: http10KeepAlive, to: out)
        if headOnly { return }
        out.appendDecimal(status)
        out.append(byte: 0x20)
        out.append(reason)
        out.append(byte: 0x0A)
    }

    /// A 200 with a body berth makes itself (an ACME HTTP-01 key authorization).
    static func write(text: String, close: Bool, http10KeepAlive: Bool, headOnly: Bool, into out: ByteBuffer) {
        out.append("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ")
        out.appendDecimal(text.utf8.count)
        out.append("\r\n")
        appendConnection(close: close, http10KeepAlive: http10KeepAlive, to: out)
        if !headOnly { out.appendString(text) }
    }

    /// The Connection header a local answer needs, and the end of the head.
    private static func appendConnection(close: Bool, http10KeepAlive: Bool, to out: ByteBuffer) {
        if close {
            out.append("Connection: close\r\n")
        } else if http10KeepAlive {
            out.append("Connection: keep-alive\r\n")
        }
        out.append("\r\n")
    }
}
