import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The OCI distribution API for one repository: manifests (with an Accept
/// list covering OCI and Docker manifests and indexes) and blobs, behind the
/// registry's auth — anonymous or credentialed bearer tokens from its
/// `WWW-Authenticate` challenge (kept until they expire), or basic auth.
final class RegistryClient {
    let reference: ImageReference
    /// Plain HTTP (only for registries configured as insecure).
    let insecure: Bool
    private let credentials: String?
    private var token: (value: String, expires: Date)?

    static let manifestTypes = [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]

    init(_ reference: ImageReference, insecure: Bool) {
        self.reference = reference
        self.insecure = insecure
        credentials = RegistryCredentials.basic(for: reference.domain)
    }

    var base: String { (insecure ? "http" : "https") + "://" + reference.registryHost + "/v2/" + reference.repository }

    /// The manifest (or index) `ref` names: its bytes and media type. A
    /// manifest asked for by digest is checked against it.
    func manifest(_ ref: String) throws(StoreError) -> (data: Data, mediaType: String) {
        let r = try get(base + "/manifests/" + ref, accept: Self.manifestTypes)
        guard r.status == 200 else { throw StoreError("\(reference): manifest \(ref): HTTP \(r.status)\(Self.errorText(r.body))") }
        if ref.hasPrefix("sha256:") {
            let got = "sha256:" + Self.sha256(r.body)
            guard got == ref else { throw StoreError("\(reference): manifest \(ref) has digest \(got): refused") }
        }
        let type = r.headers["content-type"]?.split(separator: ";").first.map(String.init)
            ?? (try? JSONSerialization.jsonObject(with: r.body) as? [String: Any])?["mediaType"] as? String ?? ""
        return (r.body, type)
    }

    /// A small blob (an image config), checked against its digest.
    func smallBlob(_ digest: String) throws(StoreError) -> Data {
        let r = try get(base + "/blobs/" + digest, accept: [])
        guard r.status == 200 else { throw StoreError("\(reference): blob \(digest): HTTP \(r.status)") }
        let got = "sha256:" + Self.sha256(r.body)
        guard got == digest else { throw StoreError("\(reference): blob \(digest) has digest \(got): refused") }
        return r.body
    }

    /// Downloads blob `digest` to `path`, resuming `path.partial` when one
    /// was left by an interrupted pull; checks the digest before renaming it
    /// into place. `progress` gets the bytes so far.
    func download(_ digest: String, to path: String, progress: @escaping (Int) -> Void) throws(StoreError) {
        let partial = path + ".partial"
        let hash = SHA256()
        var have = 0
        if let existing = FileManager.default.contents(atPath: partial), !existing.isEmpty {
            existing.withUnsafeBytes { hash.update($0) }
            have = existing.count
        }
        let fd = open(partial, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError("cannot write \(partial): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var written = have
        var restarted = false
        var failed: String?
        let range = have > 0 ? ["Range: bytes=\(have)-"] : []
        let (status, _) = try stream(base + "/blobs/" + digest, extra: range) { status, chunk in
            if status == 200 && have > 0 && !restarted {
                // The registry ignored the range: start over.
                restarted = true
                ftruncate(fd, 0)
                hash.reset()
                written = 0
            }
            guard write(fd, chunk.baseAddress, chunk.count) == chunk.count else {
                failed = "write \(partial): \(String(cString: strerror(errno)))"
                return false
            }
            hash.update(chunk)
            written += chunk.count
            progress(written)
            return true
        }
        if let failed { throw StoreError(failed) }
        guard status == 200 || status == 206 else {
            if status == 416 { unlink(partial) }
            throw StoreError("\(reference): blob \(digest): HTTP \(status)")
        }
        let got = "sha256:" + hash.finish()
        guard got == digest else {
            unlink(partial)
            throw StoreError("\(reference): blob \(digest) downloaded with digest \(got): corrupted, refused")
        }
        guard rename(partial, path) == 0 else { throw StoreError("cannot store blob \(path): \(String(cString: strerror(errno)))") }
    }

    // MARK: - push

    /// Whether the repository has blob `digest` already.
    func hasBlob(_ digest: String) throws(StoreError) -> Bool {
        let r = try send("HEAD", base + "/blobs/" + digest)
        return r.status == 200
    }

    /// How a blob got into the repository.
    enum Upload { case mounted, monolithic, chunked(Int) }

    /// Uploads the blob in file `path`: mounted from repository `from` of
    /// the same registry when it has it (no bytes sent), else in one PUT,
    /// or, above `chunkSize`, in PATCHes of that size closed by a PUT with
    /// the digest (which the registry checks either way). Read from the
    /// file piece by piece: a big layer is never whole in memory.
    func upload(file path: String, size: Int, digest: String, mountFrom from: String? = nil, chunkSize: Int = 32 << 20) throws(StoreError) -> Upload {
        var url = base + "/blobs/uploads/"
        if let from { url += "?mount=" + Self.escape(digest) + "&from=" + Self.escape(from) }
        let start = try send("POST", url)
        if from != nil && start.status == 201 { return .mounted }
        guard start.status == 202, var location = start.headers["location"].map(absolute) else {
            throw StoreError("\(reference): cannot start the upload of \(digest.prefix(19)): HTTP \(start.status)\(Self.errorText(start.body))")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError("cannot read \(path)") }
        defer { try? handle.close() }
        var last = Data()
        var chunks = 0
        if size > chunkSize {
            var offset = 0
            while offset < size {
                let piece: Data
                do {
                    piece = try handle.read(upToCount: chunkSize) ?? Data()
                } catch {
                    throw StoreError("cannot read \(path): \(error)")
                }
                guard !piece.isEmpty else { throw StoreError("\(path) ended at \(offset) of \(size) bytes") }
                let r = try send("PATCH", location, headers: ["Content-Type: application/octet-stream",
                                                            "Content-Range: \(offset)-\(offset + piece.count - 1)"], body: piece)
                guard r.status == 202, let next = r.headers["location"].map(absolute) else {
                    throw StoreError("\(reference): the registry refused part \(chunks + 1) of blob \(digest.prefix(19)): HTTP \(r.status)\(Self.errorText(r.body))")
                }
                location = next
                offset += piece.count
                chunks += 1
            }
        } else {
            do {
                last = try handle.readToEnd() ?? Data()
            } catch {
                throw StoreError("cannot read \(path): \(error)")
            }
        }
        let put = try send("PUT", location + (location.contains("?") ? "&" : "?") + "digest=" + Self.escape(digest),
                           headers: ["Content-Type: application/octet-stream"], body: last)
        guard put.status == 201 else {
            throw StoreError("\(reference): the registry refused blob \(digest.prefix(19)): HTTP \(put.status)\(Self.errorText(put.body))")
        }
        return chunks > 0 ? .chunked(chunks) : .monolithic
    }

    /// PUTs the manifest under `tag`; returns the digest the registry gives it.
    func putManifest(_ data: Data, mediaType: String, tag: String) throws(StoreError) -> String {
        let r = try send("PUT", base + "/manifests/" + tag, headers: ["Content-Type: " + mediaType], body: data)
        guard r.status == 201 else { throw StoreError("\(reference): the registry refused the manifest: HTTP \(r.status)\(Self.errorText(r.body))") }
        return r.headers["docker-content-digest"] ?? "sha256:" + Self.sha256(data)
    }

    /// A Location header as a URL (registries may answer with a path).
    private func absolute(_ location: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        return (insecure ? "http" : "https") + "://" + reference.registryHost + location
    }

    private func send(_ method: String, _ url: String, headers: [String] = [], body: Data = Data()) throws(StoreError) -> RegistryHTTP.Response {
        var r = try RegistryHTTP.send(method, url, headers: headers + authorization(), body: body)
        if r.status == 401, let challenge = r.headers["www-authenticate"] {
            try authenticate(challenge, push: true)
            r = try RegistryHTTP.send(method, url, headers: headers + authorization(), body: body)
        }
        return r
    }

    // MARK: - auth

    private func get(_ url: String, accept: [String]) throws(StoreError) -> RegistryHTTP.Response {
        let headers = accept.isEmpty ? [] : ["Accept: " + accept.joined(separator: ", ")]
        var r = try RegistryHTTP.get(url, headers: headers + authorization())
        if r.status == 401, let challenge = r.headers["www-authenticate"] {
            try authenticate(challenge)
            r = try RegistryHTTP.get(url, headers: headers + authorization())
        }
        return r
    }

    private func stream(_ url: String, extra: [String], sink: @escaping (Int, UnsafeRawBufferPointer) -> Bool) throws(StoreError) -> (Int, [String: String]) {
        func once() throws(StoreError) -> (Int, [String: String]) {
            var status = 0
            return try RegistryHTTP.stream(url, headers: extra + authorization(), statusSeen: { status = $0 }) { chunk in
                sink(status, chunk)
            }
        }
        let (s, h) = try once()
        guard s == 401, let challenge = h["www-authenticate"] else { return (s, h) }
        try authenticate(challenge)
        return try once()
    }

    private func authorization() -> [String] {
        if let token, token.expires > Date() { return ["Authorization: Bearer " + token.value] }
        if let credentials { return ["Authorization: Basic " + credentials] }
        return []
    }

    /// Answers a `Bearer realm=...,service=...,scope=...` challenge with a
    /// token (asked for with the credentials, if any); `Basic` needs credentials.
    private func authenticate(_ challenge: String, push: Bool = false) throws(StoreError) {
        let (scheme, params) = Self.parseChallenge(challenge)
        if scheme == "basic" {
            guard credentials != nil else { throw StoreError("\(reference.domain) wants credentials: set BERTH_REGISTRY_AUTH or ~/.docker/config.json") }
            return
        }
        guard scheme == "bearer", let realm = params["realm"] else { throw StoreError("\(reference.domain): unsupported auth challenge '\(challenge)'") }
        var query: [String] = []
        if let service = params["service"] { query.append("service=" + Self.escape(service)) }
        query.append("scope=" + Self.escape(params["scope"] ?? "repository:\(reference.repository):\(push ? "pull,push" : "pull")"))
        let url = realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&")
        let r = try RegistryHTTP.get(url, headers: credentials.map { ["Authorization: Basic " + $0] } ?? [])
        guard r.status == 200, let json = try? JSONSerialization.jsonObject(with: r.body) as? [String: Any],
              let value = (json["token"] as? String) ?? (json["access_token"] as? String) else {
            throw StoreError("\(reference.domain): token request to \(realm) failed: HTTP \(r.status)\(Self.errorText(r.body))")
        }
        let lifetime = (json["expires_in"] as? Double) ?? 60
        token = (value, Date().addingTimeInterval(max(10, lifetime - 5)))
    }

    /// `Bearer realm="https://auth",service="x",scope="a:b:pull"` → ("bearer", params).
    static func parseChallenge(_ text: String) -> (String, [String: String]) {
        let t = text.trimmingCharacters(in: .whitespaces)
        let space = t.firstIndex(of: " ") ?? t.endIndex
        let scheme = t[..<space].lowercased()
        var params: [String: String] = [:]
        var rest = t[space...].drop { $0 == " " }
        while let eq = rest.firstIndex(of: "=") {
            let key = rest[..<eq].trimmingCharacters(in: CharacterSet(charactersIn: " ,")).lowercased()
            var value = ""
            var i = rest.index(after: eq)
            if i < rest.endIndex && rest[i] == "\"" {
                i = rest.index(after: i)
                while i < rest.endIndex && rest[i] != "\"" {
                    if rest[i] == "\\", rest.index(after: i) < rest.endIndex { i = rest.index(after: i) }
                    value.append(rest[i])
                    i = rest.index(after: i)
                }
                if i < rest.endIndex { i = rest.index(after: i) }
            } else {
                while i < rest.endIndex && rest[i] != "," { value.append(rest[i]); i = rest.index(after: i) }
            }
            params[key] = value
            rest = rest[i...].drop { $0 == "," || $0 == " " }
        }
        return (scheme, params)
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }

    static func sha256(_ data: Data) -> String {
        let h = SHA256()
        data.withUnsafeBytes { h.update($0) }
        return h.finish()
    }

    static func errorText(_ body: Data) -> String {
        let t = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return t.isEmpty ? "" : ": " + t
    }
}

/// Registry credentials: `BERTH_REGISTRY_AUTH=host=user:password[,host2=...]`,
/// else `auths.HOST.auth` in ~/.docker/config.json (as `docker login` writes it).
enum RegistryCredentials {
    /// base64(user:password) for `domain`, if configured.
    static func basic(for domain: String) -> String? {
        if let env = getenv("BERTH_REGISTRY_AUTH").map({ String(cString: $0) }) {
            for entry in env.split(separator: ",") {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 && parts[0] == domain { return Data(parts[1].utf8).base64EncodedString() }
            }
        }
        let home = getenv("HOME").map { String(cString: $0) } ?? "/root"
        guard let data = FileManager.default.contents(atPath: home + "/.docker/config.json"),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let auths = json["auths"] as? [String: Any] else { return nil }
        let keys = domain == "docker.io" ? ["https://index.docker.io/v1/", "docker.io", "index.docker.io"] : [domain, "https://" + domain]
        for k in keys {
            if let a = (auths[k] as? [String: Any])?["auth"] as? String { return a }
        }
        return nil
    }
}
