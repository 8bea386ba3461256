/// The incremental contract of every parser here: either the message head is
/// complete (and how many bytes it took), or more bytes are needed, or the
/// bytes are refused for a named reason.
public enum HeadParseResult: Equatable, Sendable {
    case needMore
    case complete(consumed: Int)
    case error(HTTPParseError)
}
