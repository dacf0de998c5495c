//! The capture file of one tracking session: a MAP_SHARED mapping of the file inside a reserved
//! address range, handed out in fixed-size chunks with one atomic fetch-add per chunk. The file is
//! grown with ftruncate in large steps under a lock that is taken once per `growth_step_bytes`.
const std = @import("std");
const raw = @import("raw.zig");

/// Every chunk start resets the event encoding (address cache, sequence base, top-frame cache)
/// and adds a 24-byte header the compressor cannot match: at 64 KiB that was 5% of a long
/// repetitive capture's compressed size (bench micro_alloc, 124 chunks: 38.1 KB, 36.1 KB at
/// 256 KiB). A chunk is sparse file space until written, so a larger one costs little.
pub const chunk_size_bytes: u32 = 256 * 1024;
pub const chunk_header_size_bytes: u32 = 24;
pub const chunk_payload_size_bytes: u32 = chunk_size_bytes - chunk_header_size_bytes;
pub const sampler_thread_id: u32 = 0xFFFF_FFFF;

/// Address space reserved per session; a capture cannot grow beyond it (chunks are then refused
/// and records dropped, never a crash).
const reservation_size_bytes: u64 = 64 << 30;
const growth_step_bytes: u64 = 8 << 20;
/// Claims at or beyond this offset fail: set at stop so late writers cannot extend the file.
const closed_offset: u64 = 1 << 62;

comptime {
    std.debug.assert(growth_step_bytes % chunk_size_bytes == 0);
    std.debug.assert(reservation_size_bytes % growth_step_bytes == 0);
}

pub const CaptureFile = struct {
    fd: i32 = -1,
    base: ?[*]u8 = null,
    header_size_bytes: u32 = 0,
    /// File offset of the next unclaimed chunk.
    next_chunk_offset: std.atomic.Value(u64) = .init(0),
    /// Bytes of the file that exist and are mapped; chunks below it can be written without a lock.
    mapped_size_bytes: std.atomic.Value(u64) = .init(0),
    grow_lock: std.atomic.Value(u32) = .init(0),

    /// Creates the file and maps its header area. Returns 0 or an errno.
    pub fn open(self: *CaptureFile, path: [*:0]const u8, header_size_bytes: u32) u16 {
        std.debug.assert(self.fd == -1);
        std.debug.assert(header_size_bytes % raw.page_size_bytes == 0);
        const fd = raw.createFile(path);
        if (fd < 0) return @intCast(-fd);
        const base = raw.reserve(reservation_size_bytes) orelse {
            raw.close(fd);
            return @intFromEnum(std.os.linux.E.NOMEM);
        };
        self.* = .{ .fd = fd, .base = base, .header_size_bytes = header_size_bytes };
        self.next_chunk_offset.store(header_size_bytes, .release);
        const err = self.growTo(header_size_bytes + growth_step_bytes);
        if (err != 0) {
            raw.close(fd);
            self.fd = -1;
        }
        return err;
    }

    pub fn headerBytes(self: *CaptureFile) []u8 {
        std.debug.assert(self.fd >= 0);
        std.debug.assert(self.mapped_size_bytes.load(.acquire) >= self.header_size_bytes);
        return self.base.?[0..self.header_size_bytes];
    }

    /// Claims one chunk and writes its header. Null when the file cannot grow or is closed.
    pub fn claimChunk(self: *CaptureFile, thread_id: u32, thread_chunk_index: u32, first_seq: u64) ?[*]u8 {
        std.debug.assert(self.base != null);
        const offset = self.next_chunk_offset.fetchAdd(chunk_size_bytes, .monotonic);
        if (offset >= closed_offset) return null;
        if (offset + chunk_size_bytes > reservation_size_bytes) return null;
        std.debug.assert(offset % chunk_size_bytes == self.header_size_bytes % chunk_size_bytes);
        if (offset + chunk_size_bytes > self.mapped_size_bytes.load(.acquire)) {
            if (!self.growFor(offset + chunk_size_bytes)) return null;
        }
        const chunk = self.base.? + offset;
        std.mem.writeInt(u32, chunk[4..8], thread_id, .little);
        std.mem.writeInt(u64, chunk[8..16], first_seq, .little);
        std.mem.writeInt(u32, chunk[16..20], thread_chunk_index, .little);
        std.mem.writeInt(u32, chunk[20..24], 0, .little);
        // used_bytes stays 0 until the first record is published.
        return chunk;
    }

    /// Faults in the pages of the next unclaimed chunk ahead of its writer, if a chunk was
    /// claimed since `seen_offset` (the sampler thread calls this every tick; it keeps the offset
    /// it saw). A thread writing records otherwise takes a page fault per 4 KiB of them (~1000 per
    /// million malloc/free pairs) in the kernel's shared-file fault path, on the program's own
    /// thread. Only when chunks are being claimed: an idle program never waits on it, and so never
    /// has its RSS samples delayed by it. Contents are unchanged (a simulated write fault);
    /// refusal (kernels before 5.14: EINVAL) leaves the faults where they were.
    pub fn prefaultNext(self: *CaptureFile, seen_offset: *u64) void {
        if (self.base == null) return;
        const offset = self.next_chunk_offset.load(.monotonic);
        if (offset == seen_offset.*) return;
        seen_offset.* = offset;
        if (offset >= closed_offset) return;
        const end = offset + chunk_size_bytes;
        if (end > self.mapped_size_bytes.load(.acquire)) return;
        std.debug.assert(end <= reservation_size_bytes);
        std.debug.assert(offset % raw.page_size_bytes == 0);
        const madv_populate_write: u32 = 23;
        _ = std.os.linux.madvise(self.base.? + offset, chunk_size_bytes, madv_populate_write);
    }

    fn growFor(self: *CaptureFile, needed_bytes: u64) bool {
        lock(&self.grow_lock);
        defer unlock(&self.grow_lock);
        if (self.next_chunk_offset.load(.monotonic) >= closed_offset) return false;
        if (needed_bytes <= self.mapped_size_bytes.load(.acquire)) return true;
        const target = std.mem.alignForward(u64, needed_bytes, growth_step_bytes);
        return self.growTo(@min(target, reservation_size_bytes)) == 0;
    }

    /// Extends the file and maps the new part. Caller holds the lock (or is alone, at open).
    fn growTo(self: *CaptureFile, size_bytes: u64) u16 {
        const mapped = self.mapped_size_bytes.load(.acquire);
        std.debug.assert(size_bytes > mapped);
        std.debug.assert(size_bytes <= reservation_size_bytes);
        const err = raw.truncate(self.fd, size_bytes);
        if (err != 0) return err;
        const map_err = raw.mapFileFixed(self.base.? + mapped, size_bytes - mapped, self.fd, mapped);
        if (map_err != 0) return map_err;
        // Without this, the first write fault in the new range reads ahead: the kernel fills
        // (zeroes) megabytes of page cache for the hole, and close() frees them again. It was
        // about 3 ms of every start and 1 ms of every stop; one page per fault is enough. Advice
        // only: if refused, capturing works the same, just slower.
        _ = std.os.linux.madvise(self.base.? + mapped, size_bytes - mapped, std.os.linux.MADV.RANDOM);
        self.mapped_size_bytes.store(size_bytes, .release);
        return 0;
    }

    /// Refuses further chunks, then cuts the file after the last claimed chunk. Chunks already
    /// claimed stay mapped (a thread racing with stop may still finish its record) and the
    /// reservation is kept for the same reason. Returns the final size.
    pub fn close(self: *CaptureFile) u64 {
        std.debug.assert(self.fd >= 0);
        lock(&self.grow_lock);
        defer unlock(&self.grow_lock);
        const end = self.next_chunk_offset.swap(closed_offset, .monotonic);
        std.debug.assert(end < closed_offset);
        const mapped = self.mapped_size_bytes.load(.acquire);
        // Claimed chunks whose growth never happened lie beyond the mapping: they are empty.
        const final_size = @min(end, mapped);
        _ = raw.truncate(self.fd, final_size);
        raw.close(self.fd);
        self.fd = -1;
        return final_size;
    }
};

pub fn lock(word: *std.atomic.Value(u32)) void {
    // Held only around ftruncate+mmap (rare); spinning with yields is enough.
    var attempts: u64 = 0;
    while (word.cmpxchgWeak(0, 1, .acquire, .monotonic) != null) : (attempts += 1) {
        std.debug.assert(attempts < 1 << 40);
        std.atomic.spinLoopHint();
        if (attempts % 64 == 63) _ = std.os.linux.sched_yield();
    }
}

pub fn unlock(word: *std.atomic.Value(u32)) void {
    std.debug.assert(word.load(.monotonic) == 1);
    word.store(0, .release);
}
