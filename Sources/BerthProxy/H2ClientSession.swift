import BerthHTTP
import CNGHTTP2

/// One nghttp2 client session (an HTTP/2 connection berth opened to an h2c
/// upstream), driven with memory buffers like `H2Session`: bytes in through
/// `receive`, out through `send`. The C session and its callbacks stay
/// inside this type; the callbacks capture nothing and reach the owning
/// `H2UpstreamSession` through the session's user data (unretained: the
/// owner deletes this session before going away).
final class H2ClientSession {
    private let raw: OpaquePointer
    /// Each stream's receive window (the bound on what one response buffers),
    /// and the connection's (so one slow stream does not stall the others).
    static let streamWindow: Int32 = 256 * 1024
    static let connectionWindow: Int32 = 16 * 1024 * 1024

    init?(owner: H2UpstreamSession) {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else { return nil }
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, namelen, value, valuelen, _, user in
            guard let frame, frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) else { return 0 }
            H2ClientSession.owner(user).upstreamHeader(stream: frame.pointee.hd.stream_id,
                                                      name: UnsafeRawBufferPointer(start: name, count: namelen),
                                                      value: UnsafeRawBufferPointer(start: value, count: valuelen))
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, user in
            guard let frame else { return 0 }
            let hd = frame.pointee.hd
            let endStream = hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            let o = H2ClientSession.owner(user)
            switch UInt32(hd.type) {
            case NGHTTP2_HEADERS.rawValue:
                o.upstreamHeadersDone(stream: hd.stream_id, endStream: endStream)
            case NGHTTP2_DATA.rawValue:
                if endStream { o.upstreamEnded(stream: hd.stream_id) }
            case NGHTTP2_GOAWAY.rawValue:
                o.upstreamGoAway()
            default:
                break
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, stream, data, len, user in
            H2ClientSession.owner(user).upstreamData(stream: stream, UnsafeRawBufferPointer(start: data, count: len))
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, stream, error, user in
            H2ClientSession.owner(user).upstreamStreamClosed(stream: stream, error: error)
            return 0
        }
        var option: OpaquePointer?
        guard nghttp2_option_new(&option) == 0, let option else { return nil }
        defer { nghttp2_option_del(option) }
        // Response bytes are credited as the client side takes them (bounded buffers).
        nghttp2_option_set_no_auto_window_update(option, 1)
        nghttp2_option_set_max_settings(option, 64)
        var session: OpaquePointer?
        let me = Unmanaged.passUnretained(owner).toOpaque()
        guard nghttp2_session_client_new2(&session, callbacks, me, option) == 0, let session else { return nil }
        raw = session
        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: UInt32(Self.streamWindow)),
        ]
        // The preface and SETTINGS go out with the first `send`.
        guard nghttp2_submit_settings(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count) == 0,
              nghttp2_session_set_local_window_size(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, Self.connectionWindow) == 0 else {
            nghttp2_session_del(raw)
            return nil
        }
    }

    deinit { nghttp2_session_del(raw) }

    private static func owner(_ user: UnsafeMutableRawPointer?) -> H2UpstreamSession {
        Unmanaged<H2UpstreamSession>.fromOpaque(user!).takeUnretainedValue()
    }

    /// Feeds received bytes; false on a connection error.
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        NGHTTP2Wire.receive(raw, bytes)
    }

    /// Appends what the session has to send to `out`, up to about `limit` bytes in it; false on a fatal error.
    func send(into out: ByteBuffer, limit: Int) -> Bool {
        NGHTTP2Wire.send(raw, into: out, limit: limit)
    }

    var wantsRead: Bool { nghttp2_session_want_read(raw) != 0 }
    var wantsWrite: Bool { nghttp2_session_want_write(raw) != 0 }

    /// A new request stream; with `body`, DATA comes from the owner's
    /// `upstreamRequestBody`. Beyond the server's MAX_CONCURRENT_STREAMS
    /// nghttp2 queues it. nil when no stream can be opened (ids used up, a
    /// GOAWAY came): the caller opens another connection.
    func request(_ fields: [(name: [UInt8], value: [UInt8])], body: Bool) -> Int32? {
        let id = H2HeaderList.with(fields) { nva, count -> Int32 in
            guard body else { return nghttp2_submit_request(raw, nil, nva, count, nil, nil) }
            var provider = nghttp2_data_provider()
            provider.read_callback = { session, stream, buf, length, flags, _, user in
                var eof = false
                let o = H2ClientSession.owner(user)
                guard let n = o.upstreamRequestBody(stream: stream, into: UnsafeMutableRawBufferPointer(start: buf, count: length), eof: &eof) else {
                    return Int(NGHTTP2_ERR_DEFERRED.rawValue)
                }
                if eof {
                    flags!.pointee |= UInt32(NGHTTP2_DATA_FLAG_EOF.rawValue)
                    let trailers = o.upstreamRequestTrailers(stream: stream)
                    if !trailers.isEmpty {
                        flags!.pointee |= UInt32(NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue)
                        let ok = H2HeaderList.with(trailers) { nva, count in nghttp2_submit_trailer(session, stream, nva, count) == 0 }
                        if !ok { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
                    }
                }
                return n
            }
            return nghttp2_submit_request(raw, nil, nva, count, &provider, nil)
        }
        return id > 0 ? id : nil
    }

    func resume(stream: Int32) { _ = nghttp2_session_resume_data(raw, stream) }

    /// Credits `n` response bytes of `stream` (WINDOW_UPDATE as needed).
    func consume(stream: Int32, _ n: Int) {
        if n > 0 { _ = nghttp2_session_consume(raw, stream, n) }
    }

    /// Credits bytes of a stream that closed before they were taken (the connection's window only).
    func consumeConnection(_ n: Int) {
        if n > 0 { _ = nghttp2_session_consume_connection(raw, n) }
    }

    func cancel(stream: Int32) {
        _ = nghttp2_submit_rst_stream(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, NGHTTP2_CANCEL.rawValue)
    }

    func goAway() {
        _ = nghttp2_session_terminate_session(raw, NGHTTP2_NO_ERROR.rawValue)
    }
}
