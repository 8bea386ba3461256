/// One readiness probe of a replica: whether it passed, and what happened
/// in words (`GET /health → 200`, `port 8000 refuses`) for logs and errors.
public struct ProbeResult: Sendable, Equatable {
    public var passed: Bool
    public var detail: String

    public init(passed: Bool, detail: String) {
        self.passed = passed
        self.detail = detail
    }
}
