import CBerthSystem
import CArchive
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Unpacks one registry layer (tar, gzip or zstd) into an empty directory
/// with libarchive: owners, modes, times, xattrs, symlinks and hardlinks
/// kept; OCI whiteouts turned into overlayfs ones (`.wh.NAME` → a 0/0
/// character device NAME, `.wh..wh..opq` → `trusted.overlay.opaque=y` on its
/// directory). An entry whose path or hardlink target would leave the layer
/// (`..`) or that would be written through a symlink is refused.
enum LayerExtractor {
    static func extract(_ archivePath: String, into root: String) throws(StoreError) {
        guard let reader = archive_read_new() else { throw StoreError("libarchive: cannot allocate a reader") }
        defer { archive_read_free(reader) }
        archive_read_support_filter_all(reader)
        archive_read_support_format_tar(reader)
        guard archive_read_open_filename(reader, archivePath, 1 << 16) == ARCHIVE_OK else {
            throw StoreError("cannot read layer \(archivePath): \(message(reader))")
        }
        guard let writer = archive_write_disk_new() else { throw StoreError("libarchive: cannot allocate a writer") }
        defer { archive_write_free(writer) }
        archive_write_disk_set_options(writer, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME
                                       | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_UNLINK)
        var entry: OpaquePointer?
        while true {
            let rc = archive_read_next_header(reader, &entry)
            if rc == ARCHIVE_EOF { break }
            guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN, let entry else {
                throw StoreError("bad layer \(archivePath): \(message(reader))")
            }
            let raw = String(cString: archive_entry_pathname(entry))
            guard let path = try inside(raw) else { continue }  // the root itself
            try refuseSymlinkParents(path, root: root, entry: raw)
            let full = root + "/" + path
            let name = (path as NSString).lastPathComponent
            let parent = (full as NSString).deletingLastPathComponent
            if name == ".wh..wh..opq" {
                try makeDirectories(parent)
                guard cberth_lsetxattr(parent, "trusted.overlay.opaque", "y", 1) == 0 else {
                    throw StoreError("cannot mark \(path) opaque: \(String(cString: strerror(errno)))")
                }
                continue
            }
            if name.hasPrefix(".wh.") {
                try makeDirectories(parent)
                let hidden = parent + "/" + name.dropFirst(4)
                guard mknod(hidden, S_IFCHR | 0o600, 0) == 0 else {
                    throw StoreError("cannot write whiteout for \(path): \(String(cString: strerror(errno)))")
                }
                continue
            }
            if let target = archive_entry_hardlink(entry) {
                guard let t = try inside(String(cString: target)) else { throw StoreError("layer entry \(raw): hardlink to the layer root") }
                archive_entry_set_hardlink(entry, root + "/" + t)
            }
            archive_entry_set_pathname(entry, full)
            guard archive_write_header(writer, entry) >= ARCHIVE_WARN else {
                throw StoreError("cannot extract \(raw): \(message(writer))")
            }
            if archive_entry_size(entry) > 0 {
                var buffer: UnsafeRawPointer?
                var size = 0
                var offset: la_int64_t = 0
                while true {
                    let r = archive_read_data_block(reader, &buffer, &size, &offset)
                    if r == ARCHIVE_EOF { break }
                    guard r >= ARCHIVE_WARN else { throw StoreError("bad layer data at \(raw): \(message(reader))") }
                    guard archive_write_data_block(writer, buffer, size, offset) >= ARCHIVE_WARN else {
                        throw StoreError("cannot write \(raw): \(message(writer))")
                    }
                }
            }
            guard archive_write_finish_entry(writer) >= ARCHIVE_WARN else {
                throw StoreError("cannot finish \(raw): \(message(writer))")
            }
        }
    }

    /// `raw` as a path inside the layer (no leading `./` or `/`), nil for the
    /// root itself; throws for one that climbs out with `..`.
    static func inside(_ raw: String) throws(StoreError) -> String? {
        var parts: [Substring] = []
        for c in raw.split(separator: "/") where c != "." {
            if c == ".." { throw StoreError("layer entry \(raw) leaves the layer (..): refused") }
            parts.append(c)
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }

    /// Throws when a directory on `path`'s way (inside the layer) is a
    /// symlink: writing through it could land anywhere (`link -> /etc`, then
    /// `link/passwd`).
    static func refuseSymlinkParents(_ path: String, root: String, entry: String) throws(StoreError) {
        var prefix = root
        for c in path.split(separator: "/").dropLast() {
            prefix += "/" + c
            var st = stat()
            if lstat(prefix, &st) != 0 { return }  // not there yet: nothing to follow
            if (st.st_mode & S_IFMT) == S_IFLNK {
                throw StoreError("layer entry \(entry) goes through the symlink \(prefix.dropFirst(root.count + 1)): refused")
            }
        }
    }

    /// Creates a whiteout's directory (its path was checked for symlinks already).
    private static func makeDirectories(_ path: String) throws(StoreError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw StoreError("cannot create \(path): \(error)")
        }
    }

    static func message(_ a: OpaquePointer) -> String {
        archive_error_string(a).map { String(cString: $0) } ?? "unknown error"
    }
}
