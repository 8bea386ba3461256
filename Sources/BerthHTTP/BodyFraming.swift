/// How a message body is delimited on the wire (RFC 9112 §6).
public enum BodyFraming: Equatable, Sendable {
    case none
    case length(Int)
    case chunked
    /// Response only: the body runs until the server closes.
    case untilClose
}
