//! The chunk walk of a capture (docs/capture-format.md, "File layout"), as lib/capture/event_scan.ts
//! `chunkCursors` does it: chunk headers validated in file order and grouped by thread, in order of
//! each thread's first chunk. Also the bounds-checked byte reads the record decoders share.
const std = @import("std");
const assert = std.debug.assert;
const Allocator = std.mem.Allocator;

pub const chunk_header_bytes = 24;
pub const sampler_thread_id: u32 = 0xFFFF_FFFF;

pub const Error = error{ Corrupt, OutOfMemory };

pub const ChunkRef = struct {
    records_start: usize,
    /// End of the chunk's records in the buffer (the file's end for a cut-off chunk).
    end: usize,
    first_seq: u64,
    /// The file ends inside this chunk's records (a crash); nothing follows it.
    cut_off: bool,
};

/// The shape of the file, from its header (parsed on the TypeScript side).
pub const Layout = struct {
    header_size_bytes: usize,
    /// Live layout: every chunk's span; unused when `packed`.
    chunk_size_bytes: usize,
    packed_layout: bool,
};

/// One thread's chunks, in `thread_chunk_index` order.
pub const ThreadChunks = struct {
    thread_id: u32,
    chunks: std.ArrayListUnmanaged(ChunkRef) = .empty,
};

pub const Walk = struct {
    threads: std.ArrayListUnmanaged(ThreadChunks) = .empty,
    cut_off: bool = false,

    pub fn deinit(self: *Walk, gpa: Allocator) void {
        for (self.threads.items) |*t| t.chunks.deinit(gpa);
        self.threads.deinit(gpa);
    }
};

/// Groups the chunks of `bytes` by thread. error.Corrupt for what the TypeScript walk rejects.
pub fn walk(gpa: Allocator, bytes: []const u8, layout: Layout) Error!Walk {
    if (layout.header_size_bytes > bytes.len) return error.Corrupt;
    if (!layout.packed_layout and layout.chunk_size_bytes <= chunk_header_bytes) return error.Corrupt;
    var result: Walk = .{};
    errdefer result.deinit(gpa);
    var index: std.AutoHashMapUnmanaged(u32, u32) = .empty;
    defer index.deinit(gpa);
    var offset = layout.header_size_bytes;
    // Every step passes at least one 24-byte chunk header: bounded by the buffer's length.
    for (0..bytes.len / chunk_header_bytes + 1) |_| {
        if (offset + chunk_header_bytes > bytes.len) break; // Partial chunk header: ignored.
        const used_bytes: usize = read32(bytes, offset);
        const thread_id = read32(bytes, offset + 4);
        const first_seq = std.mem.readInt(u64, bytes[offset + 8 ..][0..8], .little);
        const thread_chunk_index = read32(bytes, offset + 16);
        const span = if (layout.packed_layout) chunk_header_bytes + used_bytes else layout.chunk_size_bytes;
        if (!layout.packed_layout and chunk_header_bytes + used_bytes > layout.chunk_size_bytes) {
            return error.Corrupt;
        }
        if (used_bytes == 0) {
            if (layout.packed_layout) return error.Corrupt;
            offset += span;
            continue;
        }
        const records_start = offset + chunk_header_bytes;
        const cut_off = records_start + used_bytes > bytes.len;
        if (cut_off and layout.packed_layout) return error.Corrupt;
        const slot = try index.getOrPut(gpa, thread_id);
        if (!slot.found_existing) {
            slot.value_ptr.* = @intCast(result.threads.items.len);
            try result.threads.append(gpa, .{ .thread_id = thread_id });
        }
        const thread = &result.threads.items[slot.value_ptr.*];
        if (thread_chunk_index != thread.chunks.items.len) return error.Corrupt;
        try thread.chunks.append(gpa, .{
            .records_start = records_start,
            .end = @min(records_start + used_bytes, bytes.len),
            .first_seq = first_seq,
            .cut_off = cut_off,
        });
        if (cut_off) {
            result.cut_off = true;
            break; // Nothing complete can follow a chunk the file ends in.
        }
        offset += span;
    }
    assert(result.threads.items.len == index.count());
    return result;
}

fn read32(bytes: []const u8, offset: usize) u32 {
    assert(offset + 4 <= bytes.len);
    return std.mem.readInt(u32, bytes[offset..][0..4], .little);
}

/// A read cursor over one record: reads at or past `end` yield 0 and still advance, so a record
/// that runs past its chunk shows as `pos > end` (`overran`), checked once per record.
pub const Cursor = struct {
    buf: []const u8,
    pos: usize,
    end: usize,

    pub fn overran(self: *const Cursor) bool {
        return self.pos > self.end;
    }

    pub inline fn byte(self: *Cursor) u8 {
        assert(self.end <= self.buf.len);
        const b = if (self.pos < self.end) self.buf[self.pos] else 0;
        self.pos += 1;
        return b;
    }

    /// Unsigned LEB128, at most 10 bytes (bits past 64 dropped); longer marks an overrun.
    pub inline fn varint(self: *Cursor) u64 {
        var b = self.byte();
        if (b < 0x80) return b;
        var value: u64 = b & 0x7f;
        b = self.byte();
        value |= @as(u64, b & 0x7f) << 7;
        if (b < 0x80) return value;
        var shift: u6 = 14;
        var n: usize = 2;
        while (b >= 0x80) : (n += 1) {
            if (n == 10) {
                self.pos = self.end + 1;
                return 0;
            }
            b = self.byte();
            value |= @as(u64, b & 0x7f) << shift;
            shift +|= 7;
        }
        assert(n <= 10);
        return value;
    }

    /// Skips a `bytes` field (varint length, then that many bytes).
    pub fn skip_bytes(self: *Cursor) void {
        const n = self.varint();
        const room = if (self.pos <= self.end) self.end - self.pos else 0;
        if (n > room) {
            self.pos = self.end + 1;
        } else {
            self.pos += @intCast(n);
        }
    }
};

/// Zig-zag decoding: 0, -1, 1, -2, ... from 0, 1, 2, 3, ...
pub fn unzigzag(z: u64) i64 {
    return @bitCast((z >> 1) ^ (0 -% (z & 1)));
}

test "varints, zig-zag and overruns" {
    const bytes = [_]u8{ 0xac, 0x02, 0x03, 0x80 };
    var c: Cursor = .{ .buf = &bytes, .pos = 0, .end = bytes.len };
    try std.testing.expectEqual(@as(u64, 300), c.varint());
    try std.testing.expectEqual(@as(u64, 3), c.varint());
    try std.testing.expect(!c.overran());
    _ = c.varint();
    try std.testing.expect(c.overran());
    try std.testing.expectEqual(@as(i64, -2), unzigzag(3));
    try std.testing.expectEqual(@as(i64, 2), unzigzag(4));
    try std.testing.expectEqual(@as(i64, std.math.minInt(i64)), unzigzag(std.math.maxInt(u64)));
}
