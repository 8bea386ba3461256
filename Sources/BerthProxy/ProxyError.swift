/// A reason the proxy cannot start or serve, in words for the operator.
public struct ProxyError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}
