import BerthACME
import BerthConfig
import BerthRouting
import BerthThreads
import Foundation
import Logging

/// Gets and keeps certificates for the names of `tls auto` listeners: reads
/// what is stored, installs it in the data plane, and issues (or renews:
/// when the CA's renewal information (RFC 9773) says, else two thirds into a
/// certificate's life) the rest on a thread of its own, one
/// name at a time, so issuance never blocks serving and a failing name never
/// delays the others (it is retried with backoff doubling from 30 s up to a
/// day). The certificate in use stays until a new one is installed.
public final class CertificateManager: @unchecked Sendable {
    /// One name's state, for logs and `berth certs`.
    public enum NameState: Sendable, Equatable {
        case pending
        case valid(until: Date, renewAt: Date, issuer: String)
        case failing(since: Date, detail: String, retryAt: Date)
    }

    let store: CertificateStore
    let dataPlane: any DataPlane
    let logger: Logger
    let output: @Sendable (String) -> Void
    private let condition = NSCondition()
    private var acme = ACMEConfig()
    private var names: [String] = []
    private var states: [String: NameState] = [:]
    private var failures: [String: Int] = [:]
    private var installed: [String: CertificateFiles] = [:]
    private var running = false
    private var stopped = false
    /// Names a handshake asked for and the ask endpoint allowed.
    private var onDemandNames: Set<String> = []
    /// When each on-demand name was ordered (the per-hour cap).
    private var onDemandOrdered: [Date] = []
    /// When to ask the CA for each valid certificate's renewal window
    /// (absent: the CA offers none, the two-thirds rule stands).
    private var renewalInfoDue: [String: Date] = [:]
    /// When this serve last got each name's certificate (a CA that asks for a
    /// certificate it just issued to be renewed waits a minute, not a loop).
    private var issuedAt: [String: Date] = [:]

    /// What the issuing thread does next.
    enum Due: Equatable {
        case issue(String)
        case checkRenewalInfo(String)
    }

    public init(root: String, dataPlane: any DataPlane, logger: Logger, output: @escaping @Sendable (String) -> Void) {
        store = CertificateStore(root: root)
        self.dataPlane = dataPlane
        self.logger = logger
        self.output = output
    }

    /// The names' states now.
    public var status: [String: NameState] { condition.withLock { states } }

    /// Takes the config's names and CA (at start and after each reload):
    /// stored certificates are installed at once, the rest are issued in the background.
    public func update(_ config: Config) {
        let wanted = condition.withLock { Array(Set(config.acmeNames).union(config.acme?.onDemandAsk == nil ? [] : onDemandNames)).sorted() }
        if config.acme?.onDemandAsk != nil {
            dataPlane.setOnDemandHandler { [weak self] name in self?.onDemand(name) }
        } else {
            dataPlane.setOnDemandHandler(nil)
        }
        var toInstall: [String: CertificateFiles]?
        condition.withLock {
            acme = config.acme ?? ACMEConfig()
            names = wanted
            for name in wanted where states[name] == nil {
                if let s = store.certificate(for: name), s.notAfter > Date() {
                    installed[name] = CertificateFiles(chain: s.chain, key: s.key)
                    states[name] = .valid(until: s.notAfter, renewAt: s.renewAt, issuer: s.issuer)
                    renewalInfoDue[name] = Date()
                } else {
                    states[name] = .pending
                }
            }
            for name in states.keys where !wanted.contains(name) {
                states[name] = nil
                installed[name] = nil
                renewalInfoDue[name] = nil
            }
            toInstall = installed
            condition.broadcast()
        }
        if let toInstall { install(toInstall) }
        writeStatus()
        startIfNeeded()
    }

    /// A handshake asked for `name` (the data plane's handler, off its loops):
    /// allowed by the ask endpoint and under the hourly cap, it joins the
    /// names and is ordered next; else the waiting handshake goes on without.
    func onDemand(_ name: String) {
        let (ask, perHour, known) = condition.withLock { (acme.onDemandAsk, acme.onDemandPerHour, names.contains(name)) }
        guard !known else { return }  // already being got: its install resumes the handshake
        guard let ask, OnDemandAsk.allows(name, url: ask) else {
            output("[acme]  \(name)  on-demand: refused by the ask endpoint")
            dataPlane.refuseOnDemand(name)
            return
        }
        let allowed = condition.withLock { () -> Bool in
            let hourAgo = Date().addingTimeInterval(-3600)
            onDemandOrdered.removeAll { $0 < hourAgo }
            guard onDemandOrdered.count < perHour else { return false }
            onDemandOrdered.append(Date())
            onDemandNames.insert(name)
            names = Array(Set(names).union([name])).sorted()
            states[name] = .pending
            condition.broadcast()
            return true
        }
        guard allowed else {
            output("[acme]  \(name)  on-demand: over \(perHour) new names this hour")
            dataPlane.refuseOnDemand(name)
            return
        }
        output("[acme]  \(name)  on-demand: allowed, ordering")
        startIfNeeded()
    }

    public func stop() {
        condition.withLock {
            stopped = true
            condition.broadcast()
        }
    }

    private func install(_ certs: [String: CertificateFiles]) {
        do {
            try dataPlane.installCertificates(certs)
        } catch {
            logger.error("certificates not installed: keeping the ones in use", metadata: ["error": "\(error)"])
        }
    }

    private func startIfNeeded() {
        let start = condition.withLock { () -> Bool in
            guard !running, !names.isEmpty else { return false }
            running = true
            return true
        }
        guard start else { return }
        do {
            try OSThread.detach { [self] in run() }
        } catch {
            condition.withLock { running = false }
            logger.error("certificates: no thread to issue them on", metadata: ["error": "\(error)"])
        }
    }

    /// What is due now, or when the next thing falls due.
    private func next() -> (due: Due?, wake: Date) {
        let now = Date()
        var wake = now.addingTimeInterval(3600)
        for name in names {
            switch states[name] ?? .pending {
            case .pending: return (.issue(name), now)
            case .valid(_, let renewAt, _):
                if renewAt <= now { return (.issue(name), now) }
                wake = min(wake, renewAt)
                if let check = renewalInfoDue[name] {
                    if check <= now { return (.checkRenewalInfo(name), now) }
                    wake = min(wake, check)
                }
            case .failing(_, _, let retryAt):
                if retryAt <= now { return (.issue(name), now) }
                wake = min(wake, retryAt)
            }
        }
        return (nil, wake)
    }

    private func run() {
        while true {
            condition.lock()
            var due: Due?
            var config = acme
            while !stopped {
                let (found, wake) = next()
                if let found {
                    due = found
                    config = acme
                    break
                }
                _ = condition.wait(until: wake)
            }
            condition.unlock()
            switch due {
            case nil: return  // stopped
            case .issue(let name): issue(name, with: config)
            case .checkRenewalInfo(let name): checkRenewalInfo(name, with: config)
            }
        }
    }

    /// The challenge order for the next try: after each failure the next
    /// kind goes first (a failed authorization cannot be tried again with
    /// another kind; a new order can).
    static func preference(_ kinds: [ACMEConfig.Challenge], after failures: Int) -> [String] {
        guard !kinds.isEmpty else { return ["http-01"] }
        let k = failures % kinds.count
        return (Array(kinds[k...]) + Array(kinds[..<k])).map(\.rawValue)
    }

    private func issue(_ name: String, with config: ACMEConfig) {
        output("[acme]  \(name)  requesting a certificate from \(config.directory)")
        do {
            let client = ACMEClient(directory: config.directory, accountKey: try store.accountKey(for: config.directory), caFile: config.caRoot)
            try client.account(email: config.email)
            // A renewal names the certificate it replaces (to a CA with renewal information).
            let replaces = try store.certificate(for: name).map { try String(contentsOfFile: $0.chain, encoding: .utf8) }
                .flatMap(RenewalInfo.certificateID(ofPEM:))
            let cert = try client.issue([name], keyKind: config.keyType == .rsa2048 ? .rsa2048 : .ecP256,
                                        challenges: Self.preference(config.challenges, after: condition.withLock { failures[name] ?? 0 }),
                                        replaces: replaces, answerer: ChallengeAnswerer(dataPlane: dataPlane))
            let stored = try store.save(cert, for: name)
            let certs = condition.withLock { () -> [String: CertificateFiles] in
                // A CA that backdates a short certificate past its two-thirds point must not be asked again at once.
                let lifetime = stored.notAfter.timeIntervalSince(stored.notBefore)
                let renewAt = max(stored.renewAt, Date().addingTimeInterval(max(1, lifetime / 10)))
                states[name] = .valid(until: stored.notAfter, renewAt: renewAt, issuer: stored.issuer)
                renewalInfoDue[name] = Date()
                issuedAt[name] = Date()
                failures[name] = nil
                installed[name] = CertificateFiles(chain: stored.chain, key: stored.key)
                return installed
            }
            install(certs)
            writeStatus()
            output("[acme]  \(name)  certificate valid until \(ISO8601DateFormatter().string(from: stored.notAfter)), issued by \(stored.issuer)")
        } catch {
            let (n, since) = condition.withLock { () -> (Int, Date) in
                let n = (failures[name] ?? 0) + 1
                failures[name] = n
                var since = Date()
                if case .failing(let s, _, _) = states[name] { since = s }
                let delay = min(30 * pow(2, Double(n - 1)), 86_400)
                states[name] = .failing(since: since, detail: "\(error)", retryAt: Date().addingTimeInterval(delay))
                return (n, since)
            }
            writeStatus()
            if condition.withLock({ onDemandNames.contains(name) }) { dataPlane.refuseOnDemand(name) }
            output("[acme]  \(name)  failed (\(n) in a row, since \(ISO8601DateFormatter().string(from: since))): \(error)")
            logger.error("certificate not issued", metadata: ["name": "\(name)", "error": "\(error)", "attempts": "\(n)"])
        }
    }
}

extension CertificateManager {
    /// Asks the CA when it would like `name`'s certificate renewed and
    /// moves its renewal there (a moment drawn from the window). A CA
    /// without renewal information is not asked again; one that cannot be
    /// read now is asked again in an hour, the renewal time kept meanwhile.
    func checkRenewalInfo(_ name: String, with config: ACMEConfig) {
        let fmt = ISO8601DateFormatter()
        do {
            guard let stored = store.certificate(for: name) else {
                condition.withLock { renewalInfoDue[name] = nil }
                return
            }
            let pem = try String(contentsOfFile: stored.chain, encoding: .utf8)
            let client = ACMEClient(directory: config.directory, accountKey: try store.accountKey(for: config.directory), caFile: config.caRoot)
            guard let info = try client.renewalInfo(forPEM: pem) else {
                condition.withLock { renewalInfoDue[name] = nil }
                return
            }
            let at = condition.withLock { () -> Date in
                var at = min(info.renewalTime(), stored.notAfter)
                if let issued = issuedAt[name] { at = max(at, issued.addingTimeInterval(60)) }
                if case .valid(let until, _, let issuer) = states[name] { states[name] = .valid(until: until, renewAt: at, issuer: issuer) }
                renewalInfoDue[name] = info.checkAgain
                condition.broadcast()
                return at
            }
            writeStatus()
            output("[acme]  \(name)  renewal window from the CA: \(fmt.string(from: info.start)) to \(fmt.string(from: info.end)); "
                + "renewing at \(fmt.string(from: at))" + (info.explanationURL.map { " (\($0))" } ?? ""))
        } catch {
            condition.withLock { renewalInfoDue[name] = Date().addingTimeInterval(3600) }
            output("[acme]  \(name)  renewal information not read (asked again in an hour): \(error)")
        }
    }

    /// Writes `STATE/acme/status.json` for `berth certs` (a failed write is logged).
    func writeStatus() {
        let rows = status.sorted { $0.key < $1.key }.map { name, state -> CertificateStatus in
            switch state {
            case .pending:
                return CertificateStatus(name: name, state: .pending)
            case .valid(let until, let renewAt, let issuer):
                var r = CertificateStatus(name: name, state: .valid)
                (r.notAfter, r.renewAt, r.issuer) = (until, renewAt, issuer)
                return r
            case .failing(let since, let detail, let retryAt):
                var r = CertificateStatus(name: name, state: .failing)
                (r.since, r.detail, r.retryAt) = (since, detail, retryAt)
                return r
            }
        }
        do {
            try store.writeStatus(rows)
        } catch {
            logger.error("certificate status not written", metadata: ["error": "\(error)"])
        }
    }
}

/// Publishes HTTP-01 key authorizations on the data plane's plain listeners
/// and TLS-ALPN-01 certificates on its `tls auto` listeners.
struct ChallengeAnswerer: ACMEChallengeAnswerer {
    let dataPlane: any DataPlane

    func publish(http01Token token: String, keyAuthorization: String) {
        dataPlane.answerHTTP01(token: token, keyAuthorization: keyAuthorization)
    }

    func withdraw(http01Token token: String) {
        dataPlane.answerHTTP01(token: token, keyAuthorization: nil)
    }

    func publish(tlsALPN01Name name: String, keyAuthorization: String) throws {
        try dataPlane.answerTLSALPN01(name: name, keyAuthorization: keyAuthorization)
    }

    func withdraw(tlsALPN01Name name: String) {
        do {
            try dataPlane.answerTLSALPN01(name: name, keyAuthorization: nil)
        } catch {
            // Withdrawing makes nothing; it cannot fail.
        }
    }
}
