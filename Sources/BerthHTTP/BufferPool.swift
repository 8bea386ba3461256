#if canImport(Glibc)
import Glibc
#endif

/// Fixed-size blocks that a worker's connection buffers borrow while they
/// hold bytes and give back when they are empty, as HAProxy's buffer pools
/// do: an idle keep-alive connection holds no buffer memory. One pool per
/// event-loop thread (no locks). Free blocks are kept up to the most blocks
/// lent at once in the last two sweep windows (at least `keep`, at most
/// `maxKeep`), so a load that lends and returns hundreds of blocks per loop
/// turn (HTTP/2 streams, bursts of new connections) reuses them instead of
/// going to malloc each time, and two quiet windows after the load ends the
/// pool is back to `keep` (the rest go back to malloc, and the worker trims
/// the heap once `freedBytes` is large).
public final class BufferPool {
    /// Bytes per block (the buffers' capacity).
    public let blockSize: Int
    /// Free blocks always kept for reuse.
    public let keep: Int
    /// Free blocks kept at most, however many were lent at once.
    public let maxKeep: Int
    /// The most blocks lent at once in this window and in the one before (see `settle()`).
    private var peak = 0
    private var lastPeak = 0
    /// Free blocks kept now: `keep`, or the recent peak of blocks lent at once.
    private var limit: Int
    private var free: [UnsafeMutableRawPointer] = []
    /// Blocks out on loan now (for tests and metrics).
    public private(set) var inUse = 0
    /// Bytes freed back to malloc since the last `resetFreed()` (the worker
    /// trims the heap when enough has been freed: glibc keeps small blocks).
    public private(set) var freedBytes = 0
    /// Blocks malloc'd because none was free, since the last `takeAllocations()`.
    public private(set) var allocations = 0
    /// Blocks lent (free or malloc'd), since the last `takeLends()`.
    public private(set) var lends = 0

    public init(blockSize: Int, keep: Int = 64, maxKeep: Int = 4096) {
        self.blockSize = blockSize
        self.keep = keep
        self.maxKeep = max(keep, maxKeep)
        limit = keep
        free.reserveCapacity(keep)
    }

    deinit {
        for b in free { b.deallocate() }
    }

    /// A block of `blockSize` bytes; its contents are whatever was there.
    @inline(__always)
    public func take() -> UnsafeMutableRawPointer {
        inUse += 1
        lends += 1
        if inUse > peak {
            peak = inUse
            if peak > limit { limit = min(peak, maxKeep) }
        }
        if let b = free.popLast() { return b }
        allocations += 1
        return UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: 16)
    }

    /// Returns a block from `take()`.
    @inline(__always)
    public func give(_ block: UnsafeMutableRawPointer) {
        inUse -= 1
        if free.count < limit {
            free.append(block)
        } else {
            block.deallocate()
            freedBytes += blockSize
        }
    }

    /// Ends a window (the worker's sweep, every 100 ms): the limit becomes
    /// the peak of this window and the last, and free blocks past it are freed.
    public func settle() {
        lastPeak = peak
        peak = inUse
        limit = max(keep, min(max(lastPeak, peak), maxKeep))
        while free.count > limit, let b = free.popLast() {
            b.deallocate()
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

    /// `lends`, then forgets them.
    public func takeLends() -> Int {
        defer { lends = 0 }
        return lends
    }

    /// `freedBytes`, then forgets it.
    public func takeFreedBytes() -> Int {
        defer { resetFreed() }
        return freedBytes
    }
}
