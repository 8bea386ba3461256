#if canImport(Glibc)
import Glibc
#endif

/// A growable byte buffer with separate read and write positions. It owns
/// its memory; the raw pointer never leaves this type except inside `with…`
/// closures. A buffer made with a `BufferPool` holds no memory until bytes
/// are written, and `release()` gives its block back once it is empty, so an
/// idle connection costs no buffer; a buffer that had to grow past the
/// pool's block owns its memory from then on.
public final class ByteBuffer {
    public private(set) var capacity: Int
    /// nil while released (nothing buffered, no memory held).
    private var storage: UnsafeMutableRawPointer?
    /// Where the storage came from, while it is a pool block. Strong: the
    /// pool outlives every buffer that may give a block back to it.
    private let pool: BufferPool?
    /// The same pool, called without a retain and release around each
    /// take and give (`pool` keeps it alive).
    private let poolRef: Unmanaged<BufferPool>?
    private var pooled = false
    public private(set) var readerIndex = 0
    public private(set) var writerIndex = 0

    public init(capacity: Int) {
        self.capacity = max(capacity, 16)
        pool = nil
        poolRef = nil
        storage = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
    }

    /// A buffer of the pool's block size that borrows a block only while it holds bytes.
    public init(pool: BufferPool) {
        self.pool = pool
        poolRef = Unmanaged.passUnretained(pool)
        capacity = pool.blockSize
        storage = nil
    }

    deinit {
        guard let storage else { return }
        free(storage)
    }

    /// Gives `block` back where it came from: its pool, or malloc.
    @inline(__always)
    private func free(_ block: UnsafeMutableRawPointer) {
        if pooled { poolRef.unsafelyUnwrapped._withUnsafeGuaranteedRef { $0.give(block) } } else { block.deallocate() }
    }

    /// Holds memory now (a pooled buffer holds none while released).
    public var holdsMemory: Bool { storage != nil }

    /// The storage, borrowed from the pool first if the buffer was released.
    @inline(__always)
    private var bytes: UnsafeMutableRawPointer {
        if let storage { return storage }
        return borrow()
    }

    private func borrow() -> UnsafeMutableRawPointer {
        let (b, size) = poolRef.unsafelyUnwrapped._withUnsafeGuaranteedRef { ($0.take(), $0.blockSize) }
        storage = b
        pooled = true
        capacity = size
        return b
    }

    /// Gives the memory back when nothing is buffered: a pool block to its
    /// pool, and memory a pooled buffer grew into to malloc (it borrows a
    /// block of the pool's size next time). A no-op while bytes are
    /// buffered, and for buffers made without a pool.
    @inline(__always)
    public func release() {
        guard let poolRef, readerIndex == writerIndex, let storage else { return }
        readerIndex = 0
        writerIndex = 0
        self.storage = nil
        free(storage)
        pooled = false
        capacity = poolRef._withUnsafeGuaranteedRef { $0.blockSize }
    }

    @inlinable public var readableBytes: Int { writerIndex - readerIndex }
    @inlinable public var isEmpty: Bool { writerIndex == readerIndex }
    /// Room at the end without compacting.
    public var writableBytes: Int { capacity - writerIndex }
    /// Room there would be after compacting.
    public var freeBytes: Int { capacity - readableBytes }

    public func clear() {
        readerIndex = 0
        writerIndex = 0
    }

    /// Drops `count` readable bytes from the front. The bytes stay in storage
    /// until the next compaction, so `rewind(to:)` can replay them.
    public func consume(_ count: Int) {
        precondition(count >= 0 && count <= readableBytes)
        readerIndex += count
    }

    /// Moves the readable bytes to the front of the storage.
    public func compact() {
        guard readerIndex > 0 else { return }
        let n = readableBytes
        if n > 0, let storage { memmove(storage, storage + readerIndex, n) }
        readerIndex = 0
        writerIndex = n
    }

    /// Where `count` bytes can be written now: the write position, after
    /// borrowing, compacting or growing only when the storage lacks the
    /// room (the common case is one comparison, inlined into each append).
    @inline(__always)
    private func room(for count: Int) -> UnsafeMutableRawPointer {
        if let storage, capacity - writerIndex >= count { return storage + writerIndex }
        return makeRoom(for: count)
    }

    @inline(never)
    private func makeRoom(for count: Int) -> UnsafeMutableRawPointer {
        reserve(count)
        return bytes + writerIndex
    }

    /// Ensures `count` writable bytes, compacting first and growing if that is not enough.
    public func reserve(_ count: Int) {
        if writableBytes >= count { return }
        compact()
        if writableBytes >= count { return }
        var newCapacity = capacity
        while newCapacity - writerIndex < count { newCapacity *= 2 }
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        if let storage {
            if writerIndex > 0 { fresh.copyMemory(from: storage, byteCount: writerIndex) }
            free(storage)
        }
        storage = fresh
        pooled = false  // grown: owned from now on
        capacity = newCapacity
    }

    /// Grows the capacity (never shrinks) to at least `newCapacity`.
    public func ensureCapacity(_ newCapacity: Int) {
        if newCapacity > capacity { reserve(newCapacity - readableBytes) }
    }

    public func append(_ bytes: UnsafeRawBufferPointer) {
        append(bytes.baseAddress, bytes.count)
    }

    @inline(__always)
    private func append(_ start: UnsafeRawPointer?, _ count: Int) {
        guard count > 0, let start else { return }
        Self.copy(room(for: count), start, count)
        writerIndex += count
    }

    /// Copies `count` bytes. A head is built of short runs (names, values,
    /// ": ", CRLF): up to 16 bytes move as two overlapping words (loaded
    /// before either is stored), not through a call to memcpy.
    @inline(__always)
    static func copy(_ to: UnsafeMutableRawPointer, _ from: UnsafeRawPointer, _ count: Int) {
        if count > 16 {
            to.copyMemory(from: from, byteCount: count)
        } else if count >= 8 {
            let head = from.loadUnaligned(as: UInt64.self)
            let tail = from.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            to.storeBytes(of: head, as: UInt64.self)
            to.storeBytes(of: tail, toByteOffset: count - 8, as: UInt64.self)
        } else if count >= 4 {
            let head = from.loadUnaligned(as: UInt32.self)
            let tail = from.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
            to.storeBytes(of: head, as: UInt32.self)
            to.storeBytes(of: tail, toByteOffset: count - 4, as: UInt32.self)
        } else {
            let first = from.load(as: UInt8.self)
            let middle = from.load(fromByteOffset: count >> 1, as: UInt8.self)
            let last = from.load(fromByteOffset: count - 1, as: UInt8.self)
            to.storeBytes(of: first, as: UInt8.self)
            to.storeBytes(of: middle, toByteOffset: count >> 1, as: UInt8.self)
            to.storeBytes(of: last, toByteOffset: count - 1, as: UInt8.self)
        }
    }

    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    public func append(_ string: StaticString) {
        append(UnsafeRawPointer(string.utf8Start), string.utf8CodeUnitCount)
    }

    /// Appends a runtime string's UTF-8 (literals go to the StaticString overload).
    public func appendString(_ string: String) {
        var s = string
        s.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    public func append(byte: UInt8) {
        room(for: 1).storeBytes(of: byte, as: UInt8.self)
        writerIndex += 1
    }

    /// Appends `value` in decimal.
    public func appendDecimal(_ value: Int) {
        let p = room(for: 20)
        var v = value.magnitude
        var digits = 1
        var t = v
        while t >= 10 { t /= 10; digits += 1 }
        var i = digits + (value < 0 ? 1 : 0)
        let total = i
        repeat {
            i -= 1
            p.storeBytes(of: UInt8(truncatingIfNeeded: v % 10) &+ 0x30, toByteOffset: i, as: UInt8.self)
            v /= 10
        } while v > 0
        if value < 0 { p.storeBytes(of: 0x2D, toByteOffset: 0, as: UInt8.self) }
        writerIndex += total
    }

    /// Appends `value` in lower-case hexadecimal (for chunk sizes and ids).
    public func appendHex(_ value: UInt64, minimumDigits: Int = 1) {
        let significant = value == 0 ? 1 : (67 - value.leadingZeroBitCount) / 4
        let digits = max(significant, minimumDigits)
        let p = room(for: digits)
        var v = value
        for i in stride(from: digits - 1, through: 0, by: -1) {
            let d = UInt8(truncatingIfNeeded: v & 0xF)
            p.storeBytes(of: d < 10 ? d &+ 0x30 : d &+ 0x57, toByteOffset: i, as: UInt8.self)
            v >>= 4
        }
        writerIndex += digits
    }

    /// Appends the first `count` readable bytes of `other` without consuming them.
    public func append(from other: ByteBuffer, count: Int) {
        precondition(count <= other.readableBytes)
        guard count > 0 else { return }
        room(for: count).copyMemory(from: other.bytes + other.readerIndex, byteCount: count)
        writerIndex += count
    }

    /// Appends bytes `range` of `other`'s readable region (offsets relative to its reader index).
    public func append(from other: ByteBuffer, offset: Int, count: Int) {
        precondition(offset >= 0 && offset + count <= other.readableBytes)
        guard count > 0 else { return }
        room(for: count).copyMemory(from: other.bytes + other.readerIndex + offset, byteCount: count)
        writerIndex += count
    }

    public func withReadableBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let storage else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeRawBufferPointer(start: storage + readerIndex, count: readableBytes))
    }

    /// Lets `body` fill the writable tail; it returns how many bytes it wrote.
    public func withWritableBytes(_ body: (UnsafeMutableRawBufferPointer) throws -> Int) rethrows -> Int {
        let n = try body(UnsafeMutableRawBufferPointer(start: bytes + writerIndex, count: writableBytes))
        if n > 0 {
            precondition(n <= writableBytes)
            writerIndex += n
        }
        return n
    }

    /// Moves the reader index back to `index` (to replay bytes that are still stored).
    public func rewind(to index: Int) {
        precondition(index >= 0 && index <= readerIndex)
        readerIndex = index
    }

    /// The readable bytes as an array (tests and error paths only).
    public var readableArray: [UInt8] { withReadableBytes { Array($0) } }
}
