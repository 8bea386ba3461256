/// Where one replica of a container app listens: a port on 127.0.0.1 inside
/// a network namespace (nil: the host's, for `network host` apps). The
/// control plane places replicas; the data plane connects to them.
public struct Placement: Sendable, Hashable, CustomStringConvertible {
    public var netns: String?
    public var port: Int

    public init(netns: String?, port: Int) {
        self.netns = netns
        self.port = port
    }

    public var description: String { netns.map { "127.0.0.1:\(port)@\($0)" } ?? "127.0.0.1:\(port)" }
}
