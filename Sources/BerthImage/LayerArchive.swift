import CArchive
import CBerthSystem
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A stored layer directory as the gzip tar a registry takes (the reverse
/// of `LayerExtractor`): entries in bytewise name order, owners, modes and
/// whole-second mtimes as stored, hardlinks kept, overlay whiteouts (0/0
/// character devices) as `.wh.NAME` files and opaque directories as
/// `.wh..wh..opq`; no atimes, user names or gzip timestamp, so the same
/// layer always gives the same bytes and digests.
public enum LayerArchive {
    public struct Blob: Sendable {
        /// sha256 of the uncompressed tar (the config's diff_id).
        public var diffID: String
        /// sha256 of the gzip file (the manifest's layer digest).
        public var digest: String
        public var size: Int
        public var path: String
    }

    /// Writes `layer` as `path` (gzip tar), through `path.tar` (removed).
    public static func write(_ layer: String, to path: String) throws(StoreError) -> Blob {
        let tar = path + ".tar"
        defer { unlink(tar) }
        try writeTar(layer, to: tar)
        let diffID = try compress(tar, to: path)
        let digest = try LayerDigest.fileHash(path)
        var st = stat()
        guard stat(path, &st) == 0 else { throw StoreError("cannot stat \(path)") }
        return Blob(diffID: "sha256:" + diffID, digest: "sha256:" + digest, size: Int(st.st_size), path: path)
    }

    private static func writeTar(_ root: String, to tar: String) throws(StoreError) {
        guard let a = archive_write_new() else { throw StoreError("libarchive: cannot allocate a writer") }
        defer { archive_write_free(a) }
        archive_write_set_format_pax_restricted(a)
        guard archive_write_open_filename(a, tar) == ARCHIVE_OK else { throw StoreError("cannot write \(tar): \(LayerExtractor.message(a))") }
        var links: [UInt64: String] = [:]
        try add(a, root, "", &links)
        guard archive_write_close(a) == ARCHIVE_OK else { throw StoreError("cannot finish \(tar): \(LayerExtractor.message(a))") }
    }

    private static func add(_ a: OpaquePointer, _ root: String, _ rel: String, _ links: inout [UInt64: String]) throws(StoreError) {
        let dirPath = rel.isEmpty ? root : root + "/" + rel
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dirPath)
                .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        } catch {
            throw StoreError("cannot read \(dirPath): \(error.localizedDescription)")
        }
        for name in names {
            let path = rel.isEmpty ? name : rel + "/" + name
            let full = root + "/" + path
            var st = stat()
            guard lstat(full, &st) == 0 else { throw StoreError("cannot stat \(full)") }
            let kind = st.st_mode & S_IFMT
            if kind == S_IFCHR && st.st_rdev == 0 {
                // An overlay whiteout: the OCI form is an empty `.wh.NAME`. Its
                // time is when a pull made the device, so it is left out (0):
                // a layer pulled back and pushed again gives the same bytes.
                let parent = rel.isEmpty ? "" : rel + "/"
                var marker = st
                marker.st_mtim = timespec(tv_sec: 0, tv_nsec: 0)
                try entry(a, parent + ".wh." + name, mode: S_IFREG | 0o644, st: marker) { _ in }
                continue
            }
            let key = UInt64(st.st_dev) << 40 ^ UInt64(st.st_ino)
            if kind == S_IFREG && st.st_nlink > 1 {
                if let first = links[key] {
                    try entry(a, path, mode: st.st_mode, st: st, hardlink: first) { _ in }
                    continue
                }
                links[key] = path
            }
            try entry(a, path, mode: st.st_mode, st: st) { e throws(StoreError) in
                switch kind {
                case S_IFREG:
                    archive_entry_set_size(e, Int64(st.st_size))
                case S_IFLNK:
                    var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                    let n = readlink(full, &target, target.count - 1)
                    guard n >= 0 else { throw StoreError("cannot read link \(full)") }
                    target[n] = 0
                    archive_entry_set_symlink(e, target)
                case S_IFCHR, S_IFBLK:
                    archive_entry_set_rdev(e, st.st_rdev)
                default:
                    break
                }
            }
            if kind == S_IFREG && st.st_size > 0 { try copyData(a, full) }
            if kind == S_IFDIR {
                if LayerDigest.isOpaque(full) {
                    try entry(a, path + "/.wh..wh..opq", mode: S_IFREG | 0o644, st: st) { _ in }
                }
                try add(a, root, path, &links)
            }
        }
    }

    private static func entry(_ a: OpaquePointer, _ path: String, mode: mode_t, st: stat, hardlink: String? = nil,
                              _ configure: (OpaquePointer) throws(StoreError) -> Void) throws(StoreError) {
        guard let e = archive_entry_new() else { throw StoreError("libarchive: cannot allocate an entry") }
        defer { archive_entry_free(e) }
        archive_entry_set_pathname(e, path)
        archive_entry_set_mode(e, mode)
        archive_entry_set_uid(e, Int64(st.st_uid))
        archive_entry_set_gid(e, Int64(st.st_gid))
        archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0)
        if let hardlink {
            archive_entry_set_hardlink(e, hardlink)
            archive_entry_set_size(e, 0)
        } else {
            try configure(e)
        }
        guard archive_write_header(a, e) == ARCHIVE_OK else { throw StoreError("cannot archive \(path): \(LayerExtractor.message(a))") }
    }

    private static func copyData(_ a: OpaquePointer, _ path: String) throws(StoreError) {
        try FileChunks.forEach(path) { (chunk: UnsafeRawBufferPointer) throws(StoreError) in
            guard archive_write_data(a, chunk.baseAddress, chunk.count) == chunk.count else {
                throw StoreError("cannot archive \(path): \(LayerExtractor.message(a))")
            }
        }
    }

    /// gzips `tar` into `path` (no timestamp in the header); returns the tar's sha256.
    private static func compress(_ tar: String, to path: String) throws(StoreError) -> String {
        guard let w = archive_write_new() else { throw StoreError("libarchive: cannot allocate a writer") }
        defer { archive_write_free(w) }
        archive_write_add_filter_gzip(w)
        archive_write_set_filter_option(w, "gzip", "timestamp", nil)
        archive_write_set_format_raw(w)
        guard archive_write_open_filename(w, path) == ARCHIVE_OK else { throw StoreError("cannot write \(path): \(LayerExtractor.message(w))") }
        guard let e = archive_entry_new() else { throw StoreError("libarchive: cannot allocate an entry") }
        defer { archive_entry_free(e) }
        archive_entry_set_filetype(e, 0o100000)  // AE_IFREG (a cast macro Swift cannot import)
        archive_entry_set_pathname(e, "layer.tar")
        guard archive_write_header(w, e) == ARCHIVE_OK else { throw StoreError("cannot compress \(tar): \(LayerExtractor.message(w))") }
        let hash = SHA256()
        try FileChunks.forEach(tar) { (chunk: UnsafeRawBufferPointer) throws(StoreError) in
            hash.update(chunk)
            guard archive_write_data(w, chunk.baseAddress, chunk.count) == chunk.count else {
                throw StoreError("cannot compress \(tar): \(LayerExtractor.message(w))")
            }
        }
        guard archive_write_close(w) == ARCHIVE_OK else { throw StoreError("cannot finish \(path): \(LayerExtractor.message(w))") }
        return hash.finish()
    }
}
