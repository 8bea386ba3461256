#if canImport(Glibc)
import Glibc
#endif
import BerthHTTP
import CBerthTLS

/// One client connection's TLS state: the handshake, then reads and writes
/// through OpenSSL on the non-blocking descriptor. A call that needs the
/// socket to become readable or writable says so instead of blocking.
final class TLSSession {
    private let ssl: OpaquePointer
    /// Keeps the certificates (and the SNI callback's target) alive.
    private let contexts: TLSContextSet
    private(set) var established = false
    /// The last call could not go on until the socket is writable.
    private(set) var wantsWrite = false

    init(ssl: OpaquePointer, contexts: TLSContextSet) {
        self.ssl = ssl
        self.contexts = contexts
    }

    deinit { cberth_tls_free(ssl) }

    /// The handshake settled on ALPN h2 (the connection speaks HTTP/2).
    var negotiatedH2: Bool { established && cberth_tls_alpn_is_h2(ssl) == 1 }

    /// `waitingForCertificate`: an on-demand name's certificate is being got; call again once it may be there.
    enum HandshakeResult { case done, wantRead, wantWrite, waitingForCertificate, failed }

    func handshake() -> HandshakeResult {
        let rc = cberth_tls_handshake(ssl)
        wantsWrite = rc == CBERTH_TLS_WANT_WRITE
        switch rc {
        case 1:
            established = true
            return .done
        case CBERTH_TLS_WANT_READ: return .wantRead
        case CBERTH_TLS_WANT_WRITE: return .wantWrite
        case CBERTH_TLS_WANT_CERTIFICATE: return .waitingForCertificate
        default: return .failed
        }
    }

    /// Decrypted bytes into `buffer` (as much as fits and is there).
    func read(into buffer: ByteBuffer) -> Socket.ReadResult {
        var total = 0
        // As Socket.read: reuse the buffer from the start when it is empty,
        // else make room at the tail (SSL_read of 0 bytes would read as EOF).
        if buffer.isEmpty { buffer.clear() } else if buffer.writableBytes < 2048 { buffer.compact() }
        while buffer.writableBytes > 0 {
            var rc: Int32 = 0
            _ = buffer.withWritableBytes { space in
                rc = cberth_tls_read(ssl, space.baseAddress, Int32(min(space.count, Int(Int32.max))))
                return rc > 0 ? Int(rc) : 0
            }
            wantsWrite = rc == CBERTH_TLS_WANT_WRITE
            if rc > 0 { total += Int(rc); continue }
            if total > 0 { return .bytes(total) }
            if rc == 0 { return .eof }
            if rc == CBERTH_TLS_WANT_READ || rc == CBERTH_TLS_WANT_WRITE { return .wouldBlock }
            return .failed(EPROTO)
        }
        return .bytes(total)
    }

    /// Encrypts and sends from `buffer`, consuming what went out.
    func write(from buffer: ByteBuffer) -> Socket.WriteResult {
        var total = 0
        while !buffer.isEmpty {
            let rc = buffer.withReadableBytes { b in cberth_tls_write(ssl, b.baseAddress, Int32(min(b.count, 1 << 20))) }
            wantsWrite = rc == CBERTH_TLS_WANT_WRITE
            if rc > 0 {
                buffer.consume(Int(rc))
                total += Int(rc)
                continue
            }
            if total > 0 { return .wrote(total) }
            if rc == CBERTH_TLS_WANT_READ || rc == CBERTH_TLS_WANT_WRITE { return .wouldBlock }
            return .failed(EPIPE)
        }
        return .wrote(total)
    }

    /// Bytes OpenSSL decrypted but we have not read (no poll will announce them).
    var pending: Bool { cberth_tls_pending(ssl) > 0 }

    /// Sends close_notify.
    func shutdown() {
        if established { cberth_tls_shutdown(ssl) }
    }

    var version: String { String(cString: cberth_tls_version(ssl)) }
}
