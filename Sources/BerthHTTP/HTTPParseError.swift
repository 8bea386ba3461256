/// Why a message was refused. Each case is one rule of RFC 9110/9112 (or one
/// request-smuggling vector) so tests and logs can name it; `status` is what a
/// client is answered with when its request breaks the rule.
public enum HTTPParseError: Error, Equatable, Sendable {
    case bareLF
    case bareCR
    case invalidMethod
    case invalidRequestLine
    case invalidTarget
    case asteriskTarget
    case connectNotSupported
    case invalidVersion
    case unsupportedVersion
    case requestLineTooLong
    case headTooLarge
    case tooManyHeaders
    case obsFold
    case whitespaceBeforeColon
    case invalidHeaderName
    case invalidHeaderValue
    case missingHost
    case duplicateHost
    case invalidHost
    case invalidContentLength
    case conflictingContentLength
    case contentLengthWithTransferEncoding
    case transferEncodingInHTTP10
    case chunkedNotLast
    case chunkedTwice
    case unsupportedTransferCoding
    case unsupportedExpectation
    case invalidChunkSize
    case chunkSizeOverflow
    case invalidChunkExtension
    case chunkDataOverrun
    case invalidTrailer
    case invalidStatusLine
    case bodyTooLarge

    /// The status a client gets when its request breaks this rule.
    public var status: Int {
        switch self {
        case .requestLineTooLong: return 414
        case .headTooLarge, .tooManyHeaders: return 431
        case .unsupportedVersion: return 505
        case .unsupportedTransferCoding: return 501
        case .unsupportedExpectation: return 417
        case .bodyTooLarge: return 413
        default: return 400
        }
    }
}
