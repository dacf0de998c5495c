//! One thread's decoding state across its chunks (docs/capture-format.md): the position, the
//! chunk's running seq, the address cache and the top-frame cache (both reset at every chunk
//! start), and the thread's Python and native stacks as interned node ids (kept across chunks).
const std = @import("std");
const assert = std.debug.assert;
const Allocator = std.mem.Allocator;
const chunk_walk = @import("chunk_walk.zig");
const Cursor = chunk_walk.Cursor;
const stack_intern = @import("stack_intern.zig");
const PyFrame = stack_intern.PyFrame;
const Stacks = stack_intern.Stacks;

pub const kind_alloc_last: u8 = 0x0c;
pub const kind_munmap: u8 = 0x12;
/// Kind code of each inline kind 0-7 of an event byte (0: a kind byte follows).
pub const inline_kinds = [8]u8{ 0, 0x01, 0x03, 0x11, 0x0a, 0x0b, 0x0c, 0x13 };
/// A bound on any list length in a record, as record_bodies.ts MAX_LIST.
pub const max_list = 1 << 24;
pub const mru_slots = 15;
/// Seqs, addresses, sizes and frame fields from here on are left to the TypeScript scan: its
/// Numbers hold integers exactly only below 2^53.
pub const exact_limit: u64 = 1 << 53;

/// True when both fields of `frame` are below `exact_limit` in magnitude.
pub fn exact_frame(frame: PyFrame) bool {
    return frame.raw < exact_limit and @abs(frame.offset) < exact_limit;
}
pub const top_slots = 16;

/// True for the kind codes an escaped kind byte may hold: any but 0x0D-0x10.
pub fn is_event_kind(kind: u8) bool {
    return (kind >= 0x01 and kind <= kind_alloc_last) or (kind >= 0x11 and kind <= 0x13);
}

/// A chunk's cache of recent top Python frames, most recent first.
pub const TopCache = struct {
    frames: [top_slots]PyFrame = undefined,
    len: u8 = 0,

    /// A frame enters slot 0; the others shift down and a full cache drops its last.
    pub fn insert(self: *TopCache, frame: PyFrame) void {
        const kept: usize = @min(self.len, top_slots - 1);
        std.mem.copyBackwards(PyFrame, self.frames[1 .. kept + 1], self.frames[0..kept]);
        self.frames[0] = frame;
        self.len = @intCast(kept + 1);
        assert(self.len <= top_slots);
    }

    /// Slot `slot` (< len) moves to slot 0; the slots before it shift down by one.
    pub fn hit(self: *TopCache, slot: usize) void {
        assert(slot < self.len);
        const frame = self.frames[slot];
        std.mem.copyBackwards(PyFrame, self.frames[1 .. slot + 1], self.frames[0..slot]);
        self.frames[0] = frame;
    }
};

/// RING[i] = i mod 15 for i < 30: ring positions of the address cache without a division.
const ring: [2 * mru_slots]u8 = blk: {
    var r: [2 * mru_slots]u8 = undefined;
    for (&r, 0..) |*v, i| v.* = i % mru_slots;
    break :blk r;
};

pub const Thread = struct {
    thread_id: u32,
    chunks: []const chunk_walk.ChunkRef,
    started: bool = false,
    /// The chunk being decoded: chunks[chunk - 1] once started.
    chunk: usize = 0,
    pos: usize = 0,
    end: usize = 0,
    seq: u64 = 0,
    ip: u64 = 0,
    /// The last event's seq; 0 before any (event seqs are at least 1).
    last_seq: u64 = 0,
    /// Seq of the event record at `pos` once known; maxInt(u64) when the thread has no more.
    next_seq: u64 = 0,
    /// The address cache as a ring: slot k is `mru[ring[mru_head + k]]`.
    mru: [mru_slots]u64 = @splat(0),
    mru_head: u8 = 0,
    top: TopCache = .{},
    py: std.ArrayListUnmanaged(u32) = .empty,
    native: std.ArrayListUnmanaged(u32) = .empty,

    pub fn deinit(self: *Thread, gpa: Allocator) void {
        self.py.deinit(gpa);
        self.native.deinit(gpa);
    }

    /// Moves to the next chunk, resetting the per-chunk state; false when there is none.
    pub fn next_chunk(self: *Thread) bool {
        if (self.chunk >= self.chunks.len) return false;
        const c = self.chunks[self.chunk];
        self.chunk += 1;
        assert(c.records_start <= c.end);
        self.pos = c.records_start;
        self.end = c.end;
        self.seq = c.first_seq;
        self.ip = 0;
        self.mru = @splat(0);
        self.mru_head = 0;
        self.top.len = 0;
        return true;
    }

    /// A record at `start` ran past its chunk's data: when the file was cut there, the thread
    /// ends (nothing after the cut chunk exists); otherwise the capture is corrupt.
    pub fn cut_off(self: *Thread, start: usize) chunk_walk.Error!void {
        assert(self.chunk > 0);
        const c = self.chunks[self.chunk - 1];
        assert(start >= c.records_start);
        if (!c.cut_off) return error.Corrupt;
        self.pos = c.end;
        self.end = c.end;
    }

    pub fn mru_front(self: *const Thread) u64 {
        return self.mru[self.mru_head];
    }

    pub fn mru_at(self: *const Thread, slot: u4) u64 {
        assert(slot < mru_slots);
        return self.mru[ring[self.mru_head + @as(usize, slot)]];
    }

    /// `addr` moves to slot 0: on a hit the slots before it shift down; on a miss (slot 15)
    /// every slot shifts and slot 14's address is dropped.
    pub fn mru_use(self: *Thread, slot: u4, addr: u64) void {
        assert(self.mru_head < mru_slots);
        if (slot == 15) {
            self.mru_head = if (self.mru_head == 0) mru_slots - 1 else self.mru_head - 1;
        } else {
            var j: usize = slot;
            while (j > 0) : (j -= 1) {
                self.mru[ring[self.mru_head + j]] = self.mru[ring[self.mru_head + j - 1]];
            }
        }
        self.mru[self.mru_head] = addr;
    }

    pub fn py_top(self: *const Thread) u32 {
        return if (self.py.items.len == 0) 0 else self.py.items[self.py.items.len - 1];
    }

    pub fn native_top(self: *const Thread) u32 {
        return if (self.native.items.len == 0) 0 else self.native.items[self.native.items.len - 1];
    }

    /// PY_TOP records: pop the top Python frame, push `frame`. Needs a non-empty stack.
    pub fn replace_python_top(self: *Thread, stacks: *Stacks, frame: PyFrame) chunk_walk.Error!void {
        if (self.py.items.len == 0) return error.Corrupt;
        _ = self.py.pop();
        const node = try stacks.push_python(self.py_top(), frame);
        try self.py.append(stacks.gpa, node);
    }

    /// PY_STACK (`python`) or NATIVE_STACK at `c.pos` (just past the type byte): measured
    /// first, so a record cut off by a crash changes nothing, then applied.
    pub fn stack_record(self: *Thread, stacks: *Stacks, c: *Cursor, python: bool) chunk_walk.Error!void {
        const start = c.pos - 1;
        const pops = c.varint();
        const pushes = c.varint();
        if (pushes > max_list) return error.Corrupt;
        const body = c.pos;
        var i: u64 = 0;
        while (i < pushes and c.pos <= c.end) : (i += 1) {
            _ = c.varint();
            if (python) _ = c.varint();
        }
        if (c.overran()) return self.cut_off(start);
        const after = c.pos;
        const stack = if (python) &self.py else &self.native;
        if (pops > stack.items.len) return error.Corrupt;
        stack.shrinkRetainingCapacity(stack.items.len - @as(usize, @intCast(pops)));
        c.pos = body;
        i = 0;
        while (i < pushes) : (i += 1) {
            const parent = if (stack.items.len == 0) 0 else stack.items[stack.items.len - 1];
            var node: u32 = undefined;
            if (python) {
                const frame: PyFrame = .{ .raw = c.varint(), .offset = chunk_walk.unzigzag(c.varint()) };
                if (!exact_frame(frame)) return error.Corrupt;
                if (i + 1 == pushes) self.top.insert(frame);
                node = try stacks.push_python(parent, frame);
            } else {
                self.ip +%= @bitCast(chunk_walk.unzigzag(c.varint()));
                // Beyond 2^53 the TypeScript scan's sums of deltas round: it reads those.
                if (self.ip >= exact_limit) return error.Corrupt;
                node = try stacks.push_native(parent, self.ip);
            }
            try stack.append(stacks.gpa, node);
        }
        assert(c.pos == after);
        self.pos = after;
    }
};
