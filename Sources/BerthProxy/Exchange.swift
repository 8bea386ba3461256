import BerthHTTP

/// The per-request state of a client connection: what was asked, where it
/// went, how far each body has travelled. Reset for every request; nothing in
/// it is shared with the config or the route table.
struct Exchange {
    var start = 0.0
    var method: HTTPMethod = .get
    var version: HTTPVersion = .http11
    var keepAlive = true
    /// The client said it sends no more requests (`Connection: close`, or
    /// HTTP/1.0 without keep-alive): once this request is read, nothing but
    /// its FIN can follow.
    var clientAskedClose = false
    var upgrade = false
    /// An Upgrade to `websocket` (a retired tunnel is closed with a close frame).
    var webSocket = false
    /// The route this request began on (a reload does not change it).
    var route: Route?
    /// The server that refused a connection, skipped on the retry.
    var failedServer: UpstreamServer?

    var requestFraming: BodyFraming = .none
    var requestRemaining = 0
    var requestDone = true
    var bodyBytes = 0
    /// The request could be replayed on a fresh connection (idempotent, no body).
    var retryable = false
    var attempts = 0
    /// A fresh connection was closed or reset before a byte of the response
    /// and the request went on to another server (or waited for one): a
    /// second such failure is a 502, so one request cannot take down replica
    /// after replica.
    var replayed = false
    /// The new version answered 404 and the old one was asked (`skew-retry`).
    var skewRetried = false

    var responseHeadDone = false
    /// A 1xx was relayed: the client has bytes of this exchange's answer.
    var interimSent = false
    var responseFraming: BodyFraming = .none
    var responseRemaining = 0
    /// Re-encode the body as chunked toward the client.
    var chunkedOut = false
    /// The client takes trailers (`TE: trailers`, or an HTTP/2 stream): a
    /// chunked response's trailer section is forwarded, not dropped.
    var forwardTrailers = false
    var responseDone = false
    var upstreamReusable = false
    var status = 0
    /// Close the client after this response (HTTP/1.0, Connection: close, errors).
    var closeAfter = false

    /// Whether any byte of this exchange's answer was queued for the client
    /// (after that, a failure can only be signalled by closing).
    var responseStarted: Bool { responseHeadDone || interimSent }

    var bytesIn = 0
    var bytesOut = 0
    /// Copies kept for the access log only when it is on.
    var logMethod: [UInt8] = []
    var logPath: [UInt8] = []
    var logRequestID: [UInt8] = []
    var logUpstream: [UInt8]?
}
