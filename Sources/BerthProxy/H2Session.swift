import BerthHTTP
import CNGHTTP2

/// What an nghttp2 server session tells its connection, one call per
/// callback. Called only from inside `H2Session.receive` and `send` (never
/// from anywhere else), so an implementation must not call the session back
/// re-entrantly beyond what nghttp2 allows in callbacks (submitting).
protocol H2SessionDelegate: AnyObject {
    func h2BeginRequest(stream: Int32)
    /// A request header; false refuses the stream (it is reset).
    func h2Header(stream: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool
    func h2HeadersDone(stream: Int32, endStream: Bool)
    func h2Data(stream: Int32, _ bytes: UnsafeRawBufferPointer)
    func h2RequestEnded(stream: Int32)
    func h2StreamReset(stream: Int32)
    func h2StreamClosed(stream: Int32, error: UInt32)
    /// Copies up to `into.count` response body bytes; `eof` when they are the last.
    /// nil: none yet (the stream is deferred until `resume`).
    func h2ResponseBody(stream: Int32, into: UnsafeMutableRawBufferPointer, eof: inout Bool) -> Int?
    /// The response's trailer fields, asked once its last body byte went (usually none).
    func h2Trailers(stream: Int32) -> [(name: [UInt8], value: [UInt8])]
}

/// One nghttp2 server session (the framing, HPACK and flow control of one
/// HTTP/2 connection), driven with memory buffers: bytes in through
/// `receive`, bytes out through `send`. The C session and its callbacks stay
/// inside this type; the callbacks capture nothing and find the delegate
/// through the session's user data (unretained: the connection owns this
/// session and deletes it before going away).
final class H2Session {
    private let raw: OpaquePointer
    /// What the SETTINGS frame says and the session enforces.
    struct Limits {
        var maxConcurrentStreams: UInt32 = 128
        var initialWindow: UInt32 = 64 * 1024
        var maxHeaderListSize: UInt32 = 32 * 1024
    }

    /// A session with no delegate yet: `attach(delegate:)` before the first `receive`.
    init?(limits: Limits) {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else { return nil }
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, user in
            guard let frame, frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
                  frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST else { return 0 }
            H2Session.withDelegate(user) { $0.h2BeginRequest(stream: frame.pointee.hd.stream_id) }
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, namelen, value, valuelen, _, user in
            guard let frame, frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
                  frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST else { return 0 }
            let ok = H2Session.withDelegate(user) {
                $0.h2Header(stream: frame.pointee.hd.stream_id, name: UnsafeRawBufferPointer(start: name, count: namelen),
                            value: UnsafeRawBufferPointer(start: value, count: valuelen))
            }
            return ok ? 0 : Int32(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, user in
            guard let frame else { return 0 }
            let hd = frame.pointee.hd
            let endStream = hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            let isRequest = frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST
            H2Session.withDelegate(user) { d in
                switch UInt32(hd.type) {
                case NGHTTP2_HEADERS.rawValue where isRequest:
                    d.h2HeadersDone(stream: hd.stream_id, endStream: endStream)
                case NGHTTP2_HEADERS.rawValue, NGHTTP2_DATA.rawValue:
                    if endStream { d.h2RequestEnded(stream: hd.stream_id) }
                case NGHTTP2_RST_STREAM.rawValue:
                    d.h2StreamReset(stream: hd.stream_id)
                default:
                    break
                }
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, stream, data, len, user in
            H2Session.withDelegate(user) { $0.h2Data(stream: stream, UnsafeRawBufferPointer(start: data, count: len)) }
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, stream, error, user in
            H2Session.withDelegate(user) { $0.h2StreamClosed(stream: stream, error: error) }
            return 0
        }
        var option: OpaquePointer?
        guard nghttp2_option_new(&option) == 0, let option else { return nil }
        defer { nghttp2_option_del(option) }
        // Request bodies are credited as the upstream side takes them (bounded buffers).
        nghttp2_option_set_no_auto_window_update(option, 1)
        nghttp2_option_set_max_settings(option, 64)
        nghttp2_option_set_max_outbound_ack(option, 1000)
        // Rapid reset (CVE-2023-44487): berth's own counter (H2Connection) ends
        // the connection with ENHANCE_YOUR_CALM first; nghttp2's is the backstop.
        nghttp2_option_set_stream_reset_rate_limit(option, 4000, 100)
        // CONTINUATION floods (2024): a header block in at most 8 frames.
        nghttp2_option_set_max_continuations(option, 8)
        var session: OpaquePointer?
        guard nghttp2_session_server_new2(&session, callbacks, nil, option) == 0, let session else { return nil }
        raw = session
        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: limits.maxConcurrentStreams),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: limits.initialWindow),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), value: limits.maxHeaderListSize),
            // RFC 9218: no RFC 7540 dependency tree (deprecated by RFC 9113,
            // ignored by HAProxy), so nghttp2 schedules streams by urgency
            // and keeps no closed streams for the tree.
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES.rawValue), value: 1),
        ]
        _ = nghttp2_submit_settings(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count)
    }

    deinit { nghttp2_session_del(raw) }

    /// Where the callbacks go: the connection that owns this session (its
    /// user data, unretained). Set once, before any byte is received.
    func attach(delegate: H2Connection) {
        nghttp2_session_set_user_data(raw, Unmanaged.passUnretained(delegate).toOpaque())
    }

    /// Calls `body` with the delegate, without a retain and release around it:
    /// the connection owns this session, and one that ends inside a callback
    /// goes from the worker's registry to its graveyard in one step (freed at
    /// the end of the loop turn), so it outlives every nghttp2 call.
    @inline(__always)
    private static func withDelegate<R>(_ user: UnsafeMutableRawPointer?, _ body: (H2Connection) -> R) -> R {
        Unmanaged<H2Connection>.fromOpaque(user!)._withUnsafeGuaranteedRef(body)
    }

    /// Feeds received bytes; false on a connection error (a GOAWAY is queued: send, then close).
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        NGHTTP2Wire.receive(raw, bytes)
    }

    /// Appends what the session has to send to `out`, up to about `limit` bytes in it.
    /// False on a fatal error.
    func send(into out: ByteBuffer, limit: Int) -> Bool {
        NGHTTP2Wire.send(raw, into: out, limit: limit)
    }

    var wantsRead: Bool { nghttp2_session_want_read(raw) != 0 }
    var wantsWrite: Bool { nghttp2_session_want_write(raw) != 0 }

    /// Credits `n` request body bytes of `stream` (a WINDOW_UPDATE goes out as needed).
    func consume(stream: Int32, _ n: Int) {
        if n > 0 { _ = nghttp2_session_consume(raw, stream, n) }
    }

    /// The response's head; with `body`, DATA follows through the delegate's
    /// `h2ResponseBody`, and trailers (if the delegate has any) after it.
    /// `headers` starts with `:status`.
    func respond(stream: Int32, headers: H2HeaderList, body: Bool) -> Bool {
        headers.withNV { nva, count -> Bool in
            guard body else { return nghttp2_submit_response(raw, stream, nva, count, nil) == 0 }
            var provider = nghttp2_data_provider()
            provider.read_callback = { session, stream, buf, length, flags, _, user in
                H2Session.withDelegate(user) { d in H2Session.readBody(d, session, stream, buf, length, flags) }
            }
            return nghttp2_submit_response(raw, stream, nva, count, &provider) == 0
        }
    }

    /// The data provider's read: the delegate's body bytes, then its trailers.
    private static func readBody(_ d: H2Connection, _ session: OpaquePointer?, _ stream: Int32, _ buf: UnsafeMutablePointer<UInt8>?,
                                 _ length: Int, _ flags: UnsafeMutablePointer<UInt32>?) -> Int {
        var eof = false
        guard let n = d.h2ResponseBody(stream: stream, into: UnsafeMutableRawBufferPointer(start: buf, count: length), eof: &eof) else {
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        }
        if eof {
            flags!.pointee |= UInt32(NGHTTP2_DATA_FLAG_EOF.rawValue)
            let trailers = d.h2Trailers(stream: stream)
            if !trailers.isEmpty {
                // The stream ends with the trailers' HEADERS, not this DATA.
                flags!.pointee |= UInt32(NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue)
                let ok = H2HeaderList.with(trailers) { nva, count in nghttp2_submit_trailer(session, stream, nva, count) == 0 }
                if !ok { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
            }
        }
        return n
    }

    /// More response body is there for a deferred stream.
    func resume(stream: Int32) { _ = nghttp2_session_resume_data(raw, stream) }

    func reset(stream: Int32, error: UInt32 = NGHTTP2_INTERNAL_ERROR.rawValue) {
        _ = nghttp2_submit_rst_stream(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, error)
    }

    /// Ends the connection: GOAWAY with `error`, nothing more is processed
    /// (callable from inside the session's callbacks).
    func terminate(error: UInt32) {
        _ = nghttp2_session_terminate_session(raw, error)
    }

    /// GOAWAY: no new streams; those open finish.
    func goAway(error: UInt32 = NGHTTP2_NO_ERROR.rawValue) {
        _ = nghttp2_submit_goaway(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(raw), error, nil, 0)
    }
}
