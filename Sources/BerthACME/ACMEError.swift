/// An ACME failure: what berth was doing, and the CA's problem document
/// (RFC 7807 `type` and `detail`) when it sent one.
public struct ACMEError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    /// `urn:ietf:params:acme:error:...`, when the CA said.
    public var problemType: String?

    public init(_ message: String, problemType: String? = nil) {
        self.message = message
        self.problemType = problemType
    }

    public var description: String { message }
}
