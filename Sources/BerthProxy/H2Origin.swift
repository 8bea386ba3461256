/// What a `ClientConnection` serving one HTTP/2 stream came in over.
enum H2Origin: Equatable {
    /// h2 by ALPN on a TLS listener.
    case tls
    /// h2c (prior knowledge) on a plain listener.
    case cleartext
}
