#if canImport(Glibc)
import Glibc
#endif

/// Copies files, directories and symlinks the way COPY needs: modes kept,
/// owner set (COPY's default is 0:0), an optional chmod, and paths left out
/// by a filter (`.dockerignore`).
struct TreeCopy {
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    var chmod: mode_t?
    /// Relative path (from the source root) → excluded?
    var exclude: (String) -> Bool = { _ in false }

    /// Copies `source` (whose path relative to the source root is `rel`) to `dest`.
    func copy(_ source: String, rel: String, to dest: String) throws(StoreError) {
        if !rel.isEmpty && exclude(rel) { return }
        var st = stat()
        guard lstat(source, &st) == 0 else { throw StoreError("\(rel.isEmpty ? source : rel): not found") }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            if mkdir(dest, 0o755) != 0 && errno != EEXIST { throw StoreError("cannot create \(dest)") }
            finish(dest, mode: st.st_mode & 0o7777)
            guard let d = opendir(source) else { throw StoreError("cannot read \(source)") }
            var names: [String] = []
            while let e = readdir(d) {
                let n = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
                if n != "." && n != ".." { names.append(n) }
            }
            closedir(d)
            for n in names.sorted() {
                try copy(source + "/" + n, rel: rel.isEmpty ? n : rel + "/" + n, to: dest + "/" + n)
            }
        case S_IFLNK:
            var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(source, &target, target.count - 1)
            guard n >= 0 else { throw StoreError("cannot read link \(source)") }
            unlink(dest)
            guard symlink(String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self), dest) == 0 else {
                throw StoreError("cannot create link \(dest)")
            }
            lchown(dest, uid, gid)
        case S_IFREG:
            try copyFile(source, dest)
            finish(dest, mode: st.st_mode & 0o7777)
        default:
            throw StoreError("\(rel): not a regular file, directory or link")
        }
    }

    private func finish(_ path: String, mode: mode_t) {
        lchown(path, uid, gid)
        Glibc.chmod(path, chmod ?? mode)
    }

    private func copyFile(_ from: String, _ to: String) throws(StoreError) {
        let src = open(from, O_RDONLY | O_CLOEXEC)
        guard src >= 0 else { throw StoreError("cannot open \(from)") }
        defer { close(src) }
        let dst = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard dst >= 0 else { throw StoreError("cannot create \(to): \(String(cString: strerror(errno)))") }
        defer { close(dst) }
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { read(src, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError("cannot read \(from)")
            }
            var off = 0
            while off < n {
                let w = buf[off..<n].withUnsafeBytes { write(dst, $0.baseAddress, $0.count) }
                if w <= 0 { throw StoreError("cannot write \(to)") }
                off += w
            }
        }
    }
}
