//! The native decoder of a memray 1.20 ALL_ALLOCATIONS record stream (reference §3.3-3.4), the
//! twin of lib/memray_format/stream.ts `decodeStream`: the same records in the same order, so
//! stacks are interned with the same ids, but every event goes straight into the fold (fold.zig)
//! instead of a column: memory is bounded by the distinct stacks and the live allocations. The
//! records the fold does not need (code objects, thread names, RSS samples, memory maps) are only
//! measured and listed (`cold`) for the TypeScript side to decode with memray_format's decoders.
//!
//! memray's stream is one global sequence: an event's index is its position among events, and
//! RSS samples and memory maps share the sequence counter with events.
//!
//! Anything `decodeStream` rejects gives error.Corrupt, and so do oddities its Numbers would read
//! differently (values from 2^53 on, thread ids from 2^32 on, over-long varints): the caller then
//! reads the capture with the TypeScript reader, which reports the error in its own words. A
//! record cut short by the end of the data ends the stream (a crash), as in `decodeStream`.
const std = @import("std");
const assert = std.debug.assert;
const Allocator = std.mem.Allocator;
const Fold = @import("fold.zig").Fold;
const Stacks = @import("stack_intern.zig").Stacks;
const ColdRecord = @import("capture_scan.zig").ColdRecord;
const fold_result = @import("fold_result.zig");

pub const Error = error{ Corrupt, OutOfMemory };

// Whole-byte record types (the byte has none of the flag bits 0xF0 set).
const record_filler = 0;
const record_trailer = 1;
const record_memory = 2;
const record_native_trace_index = 5;
const record_memory_map_start = 6;
const record_segment_header = 7;
const record_segment = 8;
const record_thread = 10;
const record_context_switch = 12;
const record_code_object = 14;

/// Entries of memray's most-recently-inserted pointer cache; slot 15 means "miss".
const pointer_cache_size = 15;
const pointer_cache_miss = 15;

/// Our record type byte of each memray allocator value (0: not an allocator).
const kind_of_allocator = [16]u8{ 0, 0x13, 0x0a, 0x0b, 0x0c, 0x11, 0x01, 0x03, 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x12 };
const allocator_pymalloc_free = 1;
const allocator_free = 5;
const allocator_munmap = 15;
const kind_munmap: u8 = 0x12;

/// Values from here on are not exact as the TypeScript decoder's Numbers.
const exact_limit: u64 = 1 << 53;

/// Progress is published after about this many bytes.
const progress_step_bytes = 1 << 20;

const Stop = error{ Truncated, Corrupt };

/// Reads of one record; `Truncated` when it runs past `end` (the record is then dropped).
const Reader = struct {
    buf: []const u8,
    pos: usize,
    end: usize,

    fn byte(r: *Reader) Stop!u8 {
        if (r.pos >= r.end) return error.Truncated;
        r.pos += 1;
        return r.buf[r.pos - 1];
    }

    /// Unsigned LEB128 below 2^53.
    fn varint(r: *Reader) Stop!u64 {
        var value: u64 = 0;
        var shift: u6 = 0;
        // At most 8 bytes carry the 53 bits; a ninth is an oddity for the TypeScript reader.
        for (0..8) |_| {
            const b = try r.byte();
            value |= @as(u64, b & 0x7f) << shift;
            if (b < 0x80) {
                if (value >= exact_limit) return error.Corrupt;
                return value;
            }
            shift += 7;
        }
        return error.Corrupt;
    }

    /// Zig-zag signed varint.
    fn svarint(r: *Reader) Stop!i64 {
        const z = try r.varint();
        const half: i64 = @intCast(z >> 1);
        return if (z & 1 == 1) -half - 1 else half;
    }

    fn u64le(r: *Reader) Stop!u64 {
        if (r.end - r.pos < 8) return error.Truncated;
        r.pos += 8;
        return std.mem.readInt(u64, r.buf[r.pos - 8 ..][0..8], .little);
    }

    /// Skips a NUL-terminated string.
    fn cstring(r: *Reader) Stop!void {
        const nul = std.mem.indexOfScalarPos(u8, r.buf[0..r.end], r.pos, 0) orelse return error.Truncated;
        r.pos = nul + 1;
    }

    fn skip(r: *Reader, n: u64) Stop!void {
        if (n > r.end - r.pos) return error.Truncated;
        r.pos += @intCast(n);
    }
};

/// A memray thread: its Python stack as nodes of the interned tree, outermost first (0 = root).
const Thread = struct {
    thread_id: u32,
    py: std.ArrayListUnmanaged(u32) = .empty,
};

pub const Scan = struct {
    gpa: Allocator,
    bytes: []const u8,
    start: usize,
    end: usize,
    native_traces: bool,
    stacks: Stacks,
    fold: Fold,
    /// Threads in order of their first CONTEXT_SWITCH.
    thread_list: std.ArrayListUnmanaged(Thread) = .empty,
    /// `thread_list.items` once the scan ran (what fold_result.zig `publish` reads).
    threads: []Thread = &.{},
    thread_index: std.AutoHashMapUnmanaged(u64, u32) = .empty,
    cold: std.ArrayListUnmanaged(ColdRecord) = .empty,
    /// memray native node id -> our native stack node (memray's node 0, the empty stack, is 0).
    native_nodes: std.ArrayListUnmanaged(u32) = .empty,
    /// The sequence numbers handed out: events, RSS samples and memory maps.
    seq: u64 = 0,
    finished: bool = false,
    /// [0] bytes decoded, [1] all of them: for a caller on another thread to watch.
    progress: ?*[2]u64 = null,

    pub fn init(gpa: Allocator, bytes: []const u8, start: usize, end: usize, native_traces: bool) Error!Scan {
        if (start > end or end > bytes.len) return error.Corrupt;
        var stacks = try Stacks.init(gpa);
        errdefer stacks.deinit();
        var fold = try Fold.init(gpa);
        errdefer fold.deinit();
        var native_nodes: std.ArrayListUnmanaged(u32) = .empty;
        try native_nodes.append(gpa, 0);
        return .{
            .gpa = gpa,
            .bytes = bytes,
            .start = start,
            .end = end,
            .native_traces = native_traces,
            .stacks = stacks,
            .fold = fold,
            .native_nodes = native_nodes,
        };
    }

    pub fn deinit(self: *Scan) void {
        for (self.thread_list.items) |*t| t.py.deinit(self.gpa);
        self.thread_list.deinit(self.gpa);
        self.thread_index.deinit(self.gpa);
        self.cold.deinit(self.gpa);
        self.native_nodes.deinit(self.gpa);
        self.stacks.deinit();
        self.fold.deinit();
    }

    /// True when the stream stopped short of its trailer (a crash).
    pub fn cut_off(self: *const Scan) bool {
        return !self.finished;
    }

    /// Decodes and folds the whole stream.
    pub fn run(self: *Scan) Error!void {
        if (self.progress) |p| @atomicStore(u64, &p[1], self.end - self.start, .monotonic);
        var state: State = .{};
        var r: Reader = .{ .buf = self.bytes, .pos = self.start, .end = self.end };
        var next_progress: usize = self.start + progress_step_bytes;
        // Every record takes at least one byte.
        var records: usize = 0;
        while (r.pos < self.end and !self.finished) : (records += 1) {
            assert(records <= self.end - self.start);
            const at = r.pos;
            self.record(&r, &state) catch |err| switch (err) {
                error.Truncated => {
                    r.pos = at;
                    break;
                },
                error.Corrupt => return error.Corrupt,
                error.OutOfMemory => return error.OutOfMemory,
            };
            assert(r.pos > at);
            if (r.pos >= next_progress) {
                next_progress = r.pos + progress_step_bytes;
                if (self.progress) |p| @atomicStore(u64, &p[0], r.pos - self.start, .monotonic);
            }
        }
        if (self.progress) |p| @atomicStore(u64, &p[0], self.end - self.start, .monotonic);
        self.threads = self.thread_list.items;
    }

    /// Decodes one record at `r.pos`; nothing of a truncated record is applied.
    fn record(self: *Scan, r: *Reader, s: *State) (Stop || Allocator.Error)!void {
        const at = r.pos;
        const token = try r.byte();
        if (token & 0x80 != 0) return self.allocation(r, s, token);
        if (token & 0x40 != 0) {
            // FRAME_PUSH 01uuuuue: varint code object id, signed varint instruction offset.
            const code_id = try r.varint();
            const offset = try r.svarint();
            const t = try self.current(s);
            const parent = t.py.items[t.py.items.len - 1];
            const node = try self.stacks.push_python(parent, .{ .raw = (code_id << 1) | @as(u64, token & 1), .offset = offset });
            try t.py.append(self.gpa, node);
            return;
        }
        if (token & 0x20 != 0) {
            // OBJECT_RECORD 001ppppc: not part of our model, but it moves the shared caches.
            const slot = (token >> 1) & 15;
            var pointer = s.last_data_pointer;
            if (slot == pointer_cache_miss) pointer = try add_exact(pointer, try r.svarint());
            var native_id = s.last_native_frame_id;
            if (self.native_traces and token & 1 != 0) native_id = try add_exact(native_id, try r.svarint());
            if (slot == pointer_cache_miss) s.remember(try address_of(pointer), pointer);
            s.last_native_frame_id = native_id;
            return;
        }
        if (token & 0x10 != 0) {
            // FRAME_POP 0001nnnn: pops n + 1 frames; the root stays.
            const count = (token & 15) + 1;
            const t = try self.current(s);
            if (count >= t.py.items.len) return error.Corrupt;
            t.py.shrinkRetainingCapacity(t.py.items.len - count);
            return;
        }
        switch (token) {
            record_filler => {},
            record_trailer => self.finished = true,
            record_memory => {
                _ = try r.varint();
                _ = try r.varint();
                self.seq += 1;
                try self.cold.append(self.gpa, .{ .offset = at, .thread_id = 0, .seq = self.seq });
            },
            record_native_trace_index => {
                const ip = try add_exact(s.last_ip, try r.svarint());
                const parent = try add_exact(s.last_native_frame_id, try r.svarint());
                s.last_ip = ip;
                s.last_native_frame_id = parent;
                if (ip < 0 or parent < 0 or parent >= self.native_nodes.items.len) return error.Corrupt;
                const node = try self.stacks.push_native(self.native_nodes.items[@intCast(parent)], @intCast(ip));
                try self.native_nodes.append(self.gpa, node);
            },
            record_memory_map_start => {
                self.seq += 1;
                s.in_memory_map = true;
                try self.cold.append(self.gpa, .{ .offset = at, .thread_id = 0, .seq = self.seq });
            },
            record_segment_header => {
                try r.cstring();
                const count = try r.varint();
                _ = try r.u64le();
                // Bounded by the bytes: each SEGMENT takes at least 10 (or the reads stop).
                for (0..@intCast(count)) |_| {
                    if (try r.byte() != record_segment) return error.Corrupt;
                    _ = try r.u64le();
                    _ = try r.varint();
                }
                if (!s.in_memory_map) return error.Corrupt;
                try self.cold.append(self.gpa, .{ .offset = at, .thread_id = 0, .seq = 0 });
            },
            record_thread => {
                try r.cstring();
                const t = try self.current(s);
                try self.cold.append(self.gpa, .{ .offset = at, .thread_id = t.thread_id, .seq = 0 });
            },
            record_context_switch => {
                const tid = try r.u64le();
                if (tid >= 1 << 32) return error.Corrupt;
                const found = try self.thread_index.getOrPut(self.gpa, tid);
                if (!found.found_existing) {
                    found.value_ptr.* = @intCast(self.thread_list.items.len);
                    try self.thread_list.append(self.gpa, .{ .thread_id = @intCast(tid) });
                    try self.thread_list.items[self.thread_list.items.len - 1].py.append(self.gpa, 0);
                }
                s.thread = found.value_ptr.*;
            },
            record_code_object => {
                _ = try r.varint();
                try r.cstring();
                try r.cstring();
                _ = try r.svarint();
                try r.skip(try r.varint());
                try self.cold.append(self.gpa, .{ .offset = at, .thread_id = 0, .seq = 0 });
            },
            else => return error.Corrupt,
        }
    }

    /// ALLOCATION 1ppppaaa: [address delta on miss] [allocator if aaa=0] [native id] [size].
    fn allocation(self: *Scan, r: *Reader, s: *State, token: u8) (Stop || Allocator.Error)!void {
        assert(token & 0x80 != 0);
        const slot = (token >> 3) & 15;
        var pointer = s.last_data_pointer;
        if (slot == pointer_cache_miss) pointer = try add_exact(pointer, try r.svarint());
        const allocator = if (token & 7 != 0) token & 7 else try r.byte();
        const simple_free = allocator == allocator_free or allocator == allocator_pymalloc_free;
        var native_id = s.last_native_frame_id;
        if (self.native_traces and !simple_free) native_id = try add_exact(native_id, try r.svarint());
        const size_bytes: u64 = if (simple_free) 0 else try r.varint();
        const kind = if (allocator < kind_of_allocator.len) kind_of_allocator[allocator] else 0;
        if (kind == 0) return error.Corrupt;
        const t = try self.current(s);
        var address: u64 = undefined;
        if (slot == pointer_cache_miss) {
            address = try address_of(pointer);
            s.remember(address, pointer);
        } else {
            address = s.cache[slot];
        }
        s.last_native_frame_id = native_id;
        self.seq += 1;
        if (simple_free) {
            try self.fold.event(kind, address, 0, t.thread_id, 0, 0);
        } else if (allocator == allocator_munmap) {
            try self.fold.event(kind_munmap, address, size_bytes, t.thread_id, 0, 0);
        } else {
            if (native_id < 0 or native_id >= self.native_nodes.items.len) return error.Corrupt;
            const native = self.native_nodes.items[@intCast(native_id)];
            try self.fold.event(kind, address, size_bytes, t.thread_id, t.py.items[t.py.items.len - 1], native);
        }
        assert(self.fold.event_count <= self.seq);
    }

    fn current(self: *Scan, s: *const State) Stop!*Thread {
        const index = s.thread orelse return error.Corrupt;
        assert(index < self.thread_list.items.len);
        return &self.thread_list.items[index];
    }
};

/// memray's DeltaEncodedFields (one cache per field, shared by every record kind using it) and
/// its pointer cache.
const State = struct {
    last_data_pointer: i64 = 0,
    last_native_frame_id: i64 = 0,
    last_ip: i64 = 0,
    cache: [pointer_cache_size]u64 = @splat(0),
    thread: ?u32 = null,
    in_memory_map: bool = false,

    /// A miss: the pointer becomes the delta base and the address enters the cache in front.
    fn remember(s: *State, address: u64, pointer: i64) void {
        assert(address % 8 == 0);
        std.mem.copyBackwards(u64, s.cache[1..], s.cache[0 .. pointer_cache_size - 1]);
        s.cache[0] = address;
        s.last_data_pointer = pointer;
    }
};

/// `a + b`, Corrupt once it leaves what the TypeScript decoder's Numbers hold exactly.
fn add_exact(a: i64, b: i64) Stop!i64 {
    assert(@abs(a) < exact_limit and @abs(b) < exact_limit);
    const sum = a + b;
    if (@abs(sum) >= exact_limit) return error.Corrupt;
    return sum;
}

/// memray stores pointers divided by 8; addresses the TypeScript decoder holds exactly only.
fn address_of(pointer: i64) Stop!u64 {
    if (pointer < 0 or pointer >= exact_limit / 8) return error.Corrupt;
    return @as(u64, @intCast(pointer)) * 8;
}

/// Folds the memray stream `bytes[start..end)`; null only when not even the result fits in
/// memory. The result is freed by fold_result.zig `free`.
pub fn fold_memray(
    gpa: Allocator,
    bytes: []const u8,
    start: usize,
    end: usize,
    native_traces: bool,
    merge_threads: bool,
    progress: ?*[2]u64,
) ?*fold_result.FoldResult {
    return fold_result.run(gpa, fill, .{ bytes, start, end, native_traces, merge_threads, progress });
}

fn fill(
    gpa: Allocator,
    holder: *fold_result.Holder,
    bytes: []const u8,
    start: usize,
    end: usize,
    native_traces: bool,
    merge_threads: bool,
    progress: ?*[2]u64,
) Error!void {
    var scan = try Scan.init(gpa, bytes, start, end, native_traces);
    defer scan.deinit();
    scan.progress = progress;
    try scan.run();
    assert(scan.fold.event_count <= scan.seq);
    try fold_result.publish(gpa, holder, &scan, scan.cut_off(), merge_threads);
}

test "a memray stream: stacks, a free by cache hit, the peak and the trailer" {
    const gpa = std.testing.allocator;
    // CONTEXT_SWITCH 1, FRAME_PUSH code 3 offset 2 (entry), MALLOC (aaa=6) on a miss at pointer
    // 0x100 (zig-zag 0x200) size 100, FREE (aaa=5) of cache slot 0, MALLOC size 50, TRAILER.
    const stream = [_]u8{ 12, 1, 0, 0, 0, 0, 0, 0, 0, 0x41, 3, 4, 0x80 | (15 << 3) | 6, 0x80, 4, 100, 0x80 | 5, 0x80 | (15 << 3) | 6, 2, 50, 1, 0xff };
    var scan = try Scan.init(gpa, &stream, 0, stream.len, false);
    defer scan.deinit();
    try scan.run();
    try std.testing.expect(!scan.cut_off());
    try std.testing.expectEqual(@as(u64, 3), scan.fold.event_count);
    try std.testing.expectEqual(@as(u64, 2), scan.fold.alloc_count);
    try std.testing.expectEqual(@as(u64, 100), scan.fold.peak_bytes);
    try std.testing.expectEqual(@as(u64, 50), scan.fold.live.heap_bytes);
    try std.testing.expectEqual(@as(usize, 2), scan.stacks.py_tree.count());
}

test "a record cut short ends the stream; an unknown allocator is corrupt" {
    const gpa = std.testing.allocator;
    const cut = [_]u8{ 12, 1, 0, 0, 0, 0, 0, 0, 0, 0x80 | (15 << 3) | 6, 0x80 };
    var scan = try Scan.init(gpa, &cut, 0, cut.len, false);
    defer scan.deinit();
    try scan.run();
    try std.testing.expect(scan.cut_off());
    try std.testing.expectEqual(@as(u64, 0), scan.fold.event_count);
    const bad = [_]u8{ 12, 1, 0, 0, 0, 0, 0, 0, 0, 0x80 | (15 << 3), 0, 200, 1 };
    var bad_scan = try Scan.init(gpa, &bad, 0, bad.len, false);
    defer bad_scan.deinit();
    try std.testing.expectError(error.Corrupt, bad_scan.run());
    const orphan = [_]u8{ 0x41, 3, 4 };
    var orphan_scan = try Scan.init(gpa, &orphan, 0, orphan.len, false);
    defer orphan_scan.deinit();
    try std.testing.expectError(error.Corrupt, orphan_scan.run());
}
