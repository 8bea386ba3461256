#if canImport(Glibc)
import Glibc
#endif

/// Fixed-size blocks that a worker's connection buffers borrow while they
/// hold bytes and give back when they are empty, as HAProxy's buffer pools
/// do: an idle keep-alive connection holds no buffer memory. One pool per
/// event-loop thread (no locks); at most `keep` free blocks are kept, the
/// rest go back to malloc (and the worker trims the heap once `freedBytes` is large).
public final class BufferPool {
    /// Bytes per block (the buffers' capacity).
    public let blockSize: Int
    /// Free blocks kept for reuse; more are freed at once.
    public let keep: Int
    private var free: [UnsafeMutableRawPointer] = []
    /// Blocks out on loan now (for tests and metrics).
    public private(set) var inUse = 0
    /// Bytes freed back to malloc since the last `resetFreed()` (the worker
    /// trims the heap when enough has been freed: glibc keeps small blocks).
    public private(set) var freedBytes = 0
    /// Blocks malloc'd because none was free, since the last `takeAllocations()`.
    public private(set) var allocations = 0

    public init(blockSize: Int, keep: Int = 64) {
        self.blockSize = blockSize
        self.keep = keep
        free.reserveCapacity(keep)
    }

    deinit {
        for b in free { b.deallocate() }
    }

    /// A block of `blockSize` bytes; its contents are whatever was there.
    @inline(__always)
    public func take() -> UnsafeMutableRawPointer {
        inUse += 1
        if let b = free.popLast() { return b }
        allocations += 1
        return UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: 16)
    }

    /// Returns a block from `take()`.
    @inline(__always)
    public func give(_ block: UnsafeMutableRawPointer) {
        inUse -= 1
        if free.count < keep {
            free.append(block)
        } else {
            block.deallocate()
            freedBytes += blockSize
        }
    }

    /// Free blocks held for reuse.
    public var idleBlocks: Int { free.count }

    /// Forgets what was freed (the worker just trimmed the heap).
    public func resetFreed() { freedBytes = 0 }

    /// `allocations`, then forgets them.
    public func takeAllocations() -> Int {
        defer { allocations = 0 }
        return allocations
    }

    /// `freedBytes`, then forgets it.
    public func takeFreedBytes() -> Int {
        defer { resetFreed() }
        return freedBytes
    }
}
