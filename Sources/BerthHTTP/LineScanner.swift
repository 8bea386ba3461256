#if canImport(Glibc)
import Glibc
#endif

/// Finds the CRLF-terminated lines of a message head one at a time, resuming
/// where it stopped, and enforces the head's size limit as bytes arrive. Both
/// head parsers (and so requests and responses alike) share these rules.
struct LineScanner: Sendable {
    /// Offset of the next unread line.
    private(set) var position = 0

    mutating func reset() { position = 0 }

    /// The next whole line as `start..<end` (CRLF excluded), or nil when more
    /// bytes are needed. `tooLarge` is thrown once the head, counted from
    /// `headStart`, cannot end within `maxHeadSize` bytes.
    mutating func nextLine(_ buf: UnsafeRawBufferPointer, headStart: Int, maxHeadSize: Int,
                           tooLarge: HTTPParseError) throws(HTTPParseError) -> (start: Int, end: Int)? {
        guard let base = buf.baseAddress else { return nil }
        let remaining = buf.count - position
        guard remaining > 0, let hit = memchr(base + position, 0x0A, remaining) else {
            if buf.count - headStart >= maxHeadSize { throw tooLarge }
            return nil
        }
        let lf = base.distance(to: UnsafeRawPointer(hit))
        if lf + 1 - headStart > maxHeadSize { throw tooLarge }
        guard lf > position, buf[lf - 1] == 0x0D else { throw .bareLF }
        let start = position
        position = lf + 1
        return (start, lf - 1)
    }
}
