#if canImport(Glibc)
import Glibc
#endif

/// A file read start to end in 64 KiB pieces (hashing it, archiving it),
/// EINTR retried, a read error thrown rather than taken for the end.
enum FileChunks {
    static func forEach(_ path: String, _ body: (UnsafeRawBufferPointer) throws(StoreError) -> Void) throws(StoreError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buf.deallocate() }
        while true {
            let n = read(fd, buf.baseAddress, buf.count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw StoreError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
        }
    }
}
