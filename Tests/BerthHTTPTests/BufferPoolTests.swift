import Testing
@testable import BerthHTTP

@Suite struct BufferPoolTests {
    @Test func aPooledBufferHoldsNoMemoryUntilWrittenAndGivesItBackWhenEmpty() {
        let pool = BufferPool(blockSize: 64, keep: 4)
        let b = ByteBuffer(pool: pool)
        #expect(!b.holdsMemory && pool.inUse == 0)
        #expect(b.capacity == 64 && b.isEmpty)
        b.append("hello")
        #expect(b.holdsMemory && pool.inUse == 1)
        b.release()  // not empty: kept
        #expect(b.holdsMemory)
        b.consume(5)
        b.release()
        #expect(!b.holdsMemory && pool.inUse == 0 && pool.idleBlocks == 1)
    }

    /// A block that comes back from the pool is never read past what the new
    /// owner wrote: its old bytes are behind the write index.
    @Test func aReusedBlockNeverShowsEarlierBytes() {
        let pool = BufferPool(blockSize: 64, keep: 4)
        let first = ByteBuffer(pool: pool)
        first.append("secret-from-another-connection")
        first.consume(first.readableBytes)
        first.release()
        let second = ByteBuffer(pool: pool)
        #expect(second.readableBytes == 0)
        second.append("x")
        #expect(second.readableArray == Array("x".utf8))
        #expect(pool.idleBlocks == 0 && pool.inUse == 1)  // the same block, reused
    }

    @Test func aBufferThatGrowsOwnsItsMemoryUntilEmptyAndTheBlockGoesBack() {
        let pool = BufferPool(blockSize: 64, keep: 4)
        let b = ByteBuffer(pool: pool)
        b.append([UInt8](repeating: 7, count: 10))
        #expect(pool.inUse == 1)
        b.append([UInt8](repeating: 8, count: 100))
        #expect(b.capacity >= 110 && pool.inUse == 0 && pool.idleBlocks == 1)
        #expect(b.readableArray == [UInt8](repeating: 7, count: 10) + [UInt8](repeating: 8, count: 100))
        b.consume(110)
        b.release()  // grown memory goes back to malloc, not to the pool
        #expect(!b.holdsMemory && b.capacity == 64 && pool.idleBlocks == 1)
        b.append("again")
        #expect(pool.inUse == 1 && b.readableArray == Array("again".utf8))
    }

    @Test func freeBlocksPastTheCapAreFreed() {
        let pool = BufferPool(blockSize: 64, keep: 2, maxKeep: 2)
        let buffers = (0..<5).map { _ in ByteBuffer(pool: pool) }
        for b in buffers { b.append("a") }
        #expect(pool.inUse == 5)
        for b in buffers {
            b.consume(1)
            b.release()
        }
        #expect(pool.inUse == 0 && pool.idleBlocks == 2)
        #expect(pool.takeFreedBytes() == 3 * 64)
        #expect(pool.takeFreedBytes() == 0)
        // Five blocks were malloc'd (none was free); taking two again reuses the free ones.
        #expect(pool.takeAllocations() == 5)
        for b in buffers.prefix(2) { b.append("b") }
        #expect(pool.takeAllocations() == 0 && pool.inUse == 2)
        buffers[2].append("c")
        #expect(pool.takeAllocations() == 1)
        // Every block lent counts as a lend, malloc'd or reused (the worker trims the heap only when few were).
        #expect(pool.takeLends() == 5 + 2 + 1)
        #expect(pool.takeLends() == 0)
    }

    @Test func readsIntoAReleasedBufferBorrowAgain() {
        let pool = BufferPool(blockSize: 64, keep: 2)
        let b = ByteBuffer(pool: pool)
        let n = b.withWritableBytes { space in
            space.copyBytes(from: Array("abc".utf8))
            return 3
        }
        #expect(n == 3 && b.readableArray == Array("abc".utf8) && pool.inUse == 1)
        b.withReadableBytes { #expect($0.count == 3) }
        b.consume(3)
        b.release()
        b.withReadableBytes { #expect($0.isEmpty) }  // no memory, nothing to read
    }

    /// Blocks lent at once in a window are kept when they come back (no
    /// malloc for the next burst); two quiet windows later the pool is back to `keep`.
    @Test func aBurstsBlocksAreKeptForTheNextBurstAndFreedTwoQuietWindowsLater() {
        let pool = BufferPool(blockSize: 64, keep: 2, maxKeep: 8)
        let buffers = (0..<6).map { _ in ByteBuffer(pool: pool) }
        func burst() {
            for b in buffers { b.append("a") }
            for b in buffers {
                b.consume(1)
                b.release()
            }
        }
        burst()
        #expect(pool.takeAllocations() == 6 && pool.idleBlocks == 6 && pool.takeFreedBytes() == 0)
        pool.settle()  // this window's peak was 6: all kept
        burst()
        #expect(pool.takeAllocations() == 0 && pool.idleBlocks == 6)
        pool.settle()  // the window that ended had the burst
        #expect(pool.idleBlocks == 6)
        pool.settle()  // a quiet window: back to `keep`
        #expect(pool.idleBlocks == 2 && pool.takeFreedBytes() == 4 * 64 && pool.inUse == 0)
    }

    @Test func noMoreThanMaxKeepFreeBlocksAreKeptHoweverManyWereLent() {
        let pool = BufferPool(blockSize: 64, keep: 2, maxKeep: 4)
        let buffers = (0..<10).map { _ in ByteBuffer(pool: pool) }
        for b in buffers { b.append("a") }
        for b in buffers {
            b.consume(1)
            b.release()
        }
        #expect(pool.idleBlocks == 4 && pool.takeFreedBytes() == 6 * 64)
        pool.settle()
        #expect(pool.idleBlocks == 4)
        pool.settle()
        #expect(pool.idleBlocks == 2)
    }
}
