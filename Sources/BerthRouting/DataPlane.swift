import BerthConfig

/// The one boundary between the control plane (BerthHost: images,
/// containers, deploys) and the data plane (BerthProxy: event loops,
/// connections). The control plane decides where each app's replicas are;
/// the data plane routes to them, probes them, and says when they are idle.
/// Every method may be called from any thread.
public protocol DataPlane: AnyObject, Sendable {
    /// The generation of the config every worker serves.
    var generation: Int { get }

    /// Serves a new config with its container apps' routing. Returns only
    /// once every worker has switched; throws, with the previous generation
    /// still in force everywhere, when the config cannot be served or a
    /// worker does not acknowledge in time.
    func apply(_ input: RoutingInput) throws(DataPlaneError) -> AppliedGeneration

    /// New routing for container apps under the config in force (a replica
    /// passed its gate, restarted elsewhere, or stopped), and the draining
    /// old versions of `skew-retry` apps. Returns once every worker has it.
    func route(_ apps: [String: AppRouting], previous: [String: [Placement]]) throws(DataPlaneError)

    /// Counts a reload refused before it reached the data plane (a config
    /// file that does not parse), for metrics.
    func recordRejectedReload()

    /// Calls `completion` once, on a thread that may block (never a worker's
    /// loop), when no worker has an exchange in flight on any of
    /// `placements` (nor, with `includingTunnels`, an open WebSocket or other
    /// Upgrade tunnel), or when `timeout` seconds pass (saying which were
    /// still busy). Returns at once.
    func whenIdle(_ placements: [Placement], includingTunnels: Bool, timeout: Double,
                  completion: @escaping @Sendable (DrainOutcome) -> Void)

    /// Closes every tunnel to `placements`, each at a random moment within
    /// `spread` seconds: a WebSocket gets a close frame with code 1012
    /// (Service Restart) between two of the server's frames. Returns at once;
    /// `completion` runs (as `whenIdle`'s) once they are all closed, or when
    /// the last could not finish the frame it was sending in time.
    func closeTunnels(_ placements: [Placement], spread: Double, completion: @escaping @Sendable (DrainOutcome) -> Void)

    /// One readiness probe of a replica inside its network namespace: the
    /// app's health request when it has one (2xx/3xx passes), else a TCP
    /// connect to its port. Blocks for at most `timeout` seconds.
    func probe(_ placement: Placement, health: HealthCheck?, timeout: Double) -> ProbeResult

    /// Stops accepting, lets in-flight requests finish for up to `timeout`
    /// seconds, then closes the rest. True when everything finished in time.
    func drainAll(timeout: Double) -> Bool

    /// Opens `links` inside the network namespace at `netns` (a consumer
    /// replica's; nil: the host's): a listener on 127.0.0.1:PORT there whose
    /// connections go to the linked app's live replicas. All or none: throws
    /// (with nothing left open) when one cannot listen.
    func openLinks(_ links: [LinkListen], in netns: String?) throws -> LinkHandle

    /// Stops the listeners of `handle`; connections already open go on.
    func closeLinks(_ handle: LinkHandle)

    /// Answers (or, with nil, stops answering) the ACME HTTP-01 challenge
    /// `token` on every plain listener.
    func answerHTTP01(token: String, keyAuthorization: String?)

    /// Serves (or, with nil, stops serving) the ACME TLS-ALPN-01 challenge
    /// certificate for `name` on the `tls auto` listeners, to handshakes that
    /// offer ALPN `acme-tls/1` (others are not disturbed).
    func answerTLSALPN01(name: String, keyAuthorization: String?) throws

    /// `acme { on-demand ask }`: `handler` hears of each name a TLS handshake
    /// on a `tls auto` listener asks for that no certificate covers (at most
    /// once a minute per name); the handshake waits (up to `timeouts header`)
    /// for `installCertificates` or `refuseOnDemand`. nil turns it off.
    func setOnDemandHandler(_ handler: (@Sendable (String) -> Void)?)

    /// No certificate will come for `name` now: its waiting handshakes go on
    /// (with the default certificate) and new ones do not wait for a minute.
    func refuseOnDemand(_ name: String)

    /// Serves `certificates` (by name) on the `tls auto` listeners, beside
    /// the static ones; open connections keep the certificate they have.
    func installCertificates(_ certificates: [String: CertificateFiles]) throws
}

extension DataPlane {
    /// `route` with no old version to retry on.
    public func route(_ apps: [String: AppRouting]) throws(DataPlaneError) {
        try route(apps, previous: [:])
    }

    /// `whenIdle` counting exchanges alone (a tunnel does not keep it waiting).
    public func whenIdle(_ placements: [Placement], timeout: Double, completion: @escaping @Sendable (DrainOutcome) -> Void) {
        whenIdle(placements, includingTunnels: false, timeout: timeout, completion: completion)
    }
}

/// One `link` of a consumer replica: listen on 127.0.0.1:`port` in its
/// namespace and forward to app `app`'s live replicas.
public struct LinkListen: Sendable, Equatable {
    public var app: String
    public var port: Int

    public init(app: String, port: Int) {
        self.app = app
        self.port = port
    }
}

/// The links a data plane opened for one replica, to close them with.
public struct LinkHandle: Sendable, Equatable {
    public let ids: [Int]

    public init(ids: [Int]) { self.ids = ids }
}

/// A certificate chain and its key on disk (PEM), as the ACME client stored them.
public struct CertificateFiles: Sendable, Equatable {
    public var chain: String
    public var key: String

    public init(chain: String, key: String) {
        self.chain = chain
        self.key = key
    }
}
