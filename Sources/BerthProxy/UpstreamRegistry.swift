import BerthConfig
import BerthRouting
import Logging

/// Identities that outlive a reload: each server address keeps its id, its
/// resolved address and its health; each app name keeps its metrics slot.
/// Workers index their pools and stats by these ids, so an exchange that began
/// on an old route table still finds its pool after a reload.
final class UpstreamRegistry {
    private(set) var servers: [UpstreamServer] = []
    /// Ids of plain upstream addresses, and of placed replicas.
    private var addressIDs: [HostPort: Int] = [:]
    private var placementIDs: [Placement: Int] = [:]
    /// App names by metrics id; id 0 is requests that matched no app.
    private(set) var appNames: [String] = ["none"]
    private var appIDs: [String: Int] = ["none": 0]
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func server(_ hp: HostPort) throws(SocketError) -> UpstreamServer {
        if let id = addressIDs[hp] { return servers[id] }
        let key = hp.description
        let address = try SocketAddress(hp)
        let s = UpstreamServer(id: servers.count, name: key, address: address,
                               health: ServerHealth(name: key, logger: logger))
        addressIDs[hp] = s.id
        servers.append(s)
        return s
    }

    /// The id a placed replica has had, if it was ever routed.
    func existingID(_ p: Placement) -> Int? {
        p.netns == nil ? addressIDs[HostPort(host: "127.0.0.1", port: p.port)] : placementIDs[p]
    }

    /// A placed replica: 127.0.0.1:port, in its network namespace when it has one.
    func server(_ p: Placement) throws -> UpstreamServer {
        let hp = HostPort(host: "127.0.0.1", port: p.port)
        // A host-network replica is the same server as that address.
        if p.netns == nil { return try server(hp) }
        if let id = placementIDs[p] { return servers[id] }
        let address = try SocketAddress(hp)
        let ns = try p.netns.map { try NetworkNamespace(path: $0) }
        let name = p.netns.map { "\(hp)@\($0)" } ?? hp.description
        let s = UpstreamServer(id: servers.count, name: name, authority: hp.description, address: address, netns: ns,
                               health: ServerHealth(name: name, logger: logger))
        placementIDs[p] = s.id
        servers.append(s)
        return s
    }

    func appID(_ name: String) -> Int {
        if let id = appIDs[name] { return id }
        appIDs[name] = appNames.count
        appNames.append(name)
        return appNames.count - 1
    }
}
