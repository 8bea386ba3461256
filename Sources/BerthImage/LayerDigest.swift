#if canImport(Glibc)
import Glibc
#endif
import CBerthSystem

/// The identity of a layer directory: SHA-256 over a canonical listing of
/// every entry (path, type, permission bits, owner, and the file's content
/// hash, the link's target or the device number), names sorted bytewise.
/// mtimes are left out, so touching files keeps the digest. Overlay whiteouts
/// (0/0 character devices) and opaque directories are part of the identity.
public enum LayerDigest {
    public struct Result: Sendable {
        public let digest: String
        /// Bytes of regular files.
        public let size: Int
    }

    public static func compute(_ root: String) throws(StoreError) -> Result {
        let listing = SHA256()
        var size = 0
        try walk(root, "", listing, &size)
        return Result(digest: listing.finish(), size: size)
    }

    private static func walk(_ root: String, _ rel: String, _ h: SHA256, _ size: inout Int) throws(StoreError) {
        let dirPath = rel.isEmpty ? root : root + "/" + rel
        guard let dir = opendir(dirPath) else { throw StoreError("cannot read \(dirPath): \(String(cString: strerror(errno)))") }
        var names: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(dir)
        names.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        for name in names {
            let path = rel.isEmpty ? name : rel + "/" + name
            let full = root + "/" + path
            var st = stat()
            guard lstat(full, &st) == 0 else { throw StoreError("cannot stat \(full)") }
            let kind = st.st_mode & S_IFMT
            let perms = String(st.st_mode & 0o7777, radix: 8)
            var line = "\(path)\0\(perms)\0\(st.st_uid)\0\(st.st_gid)\0"
            switch kind {
            case S_IFREG:
                line += "f\0" + (try fileHash(full))
                size += Int(st.st_size)
            case S_IFDIR:
                line += "d\0" + (isOpaque(full) ? "opaque" : "")
            case S_IFLNK:
                var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(full, &target, target.count - 1)
                line += "l\0" + String(decoding: target[0..<max(0, n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            case S_IFCHR, S_IFBLK:
                line += (kind == S_IFCHR ? "c\0" : "b\0") + "\(major(st.st_rdev)):\(minor(st.st_rdev))"
            case S_IFIFO:
                line += "p\0"
            default:
                line += "s\0"
            }
            h.update(line + "\n")
            if kind == S_IFDIR { try walk(root, path, h, &size) }
        }
    }

    static func fileHash(_ path: String) throws(StoreError) -> String {
        let h = SHA256()
        try FileChunks.forEach(path) { h.update($0) }
        return h.finish()
    }

    static func isOpaque(_ path: String) -> Bool {
        var v: UInt8 = 0
        return cberth_lgetxattr(path, "trusted.overlay.opaque", &v, 1) == 1 && v == UInt8(ascii: "y")
    }

    private static func major(_ dev: dev_t) -> UInt64 { (UInt64(dev) >> 8) & 0xFFF | (UInt64(dev) >> 32) & ~0xFFF }
    private static func minor(_ dev: dev_t) -> UInt64 { UInt64(dev) & 0xFF | (UInt64(dev) >> 12) & ~0xFF }
}

/// A store operation that failed, in words.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}
