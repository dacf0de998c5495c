//! The native event decoder of a capture (docs/capture-format.md, "Records"), the twin of
//! lib/capture/event_scan.ts: each thread's chunks are decoded by a resumable cursor, the cursors
//! are merged by seq exactly as `scanEvents` merges them (so stacks are interned in the same
//! order and get the same ids), and every event goes straight into the fold (fold.zig): nothing
//! per event is kept. Records the fold does not need (code objects, thread names, RSS samples,
//! module maps) are only measured and listed (`cold`) for the TypeScript side to decode.
//!
//! Any input the TypeScript scan would reject gives error.Corrupt, and so do oddities it would
//! read differently (two threads with equal seqs; seqs, addresses or sizes from 2^53 on, which
//! its Numbers do not hold exactly): the caller then runs the TypeScript scan, which reports the
//! error with its own message or reads the oddity its way.
const std = @import("std");
const assert = std.debug.assert;
const Allocator = std.mem.Allocator;
const chunk_walk = @import("chunk_walk.zig");
const Cursor = chunk_walk.Cursor;
const Fold = @import("fold.zig").Fold;
const Stacks = @import("stack_intern.zig").Stacks;
const Thread = @import("thread_cursor.zig").Thread;
const PyFrame = @import("stack_intern.zig").PyFrame;
const records = @import("thread_cursor.zig");

pub const Error = chunk_walk.Error;

/// A record the TypeScript side decodes: its offset, its thread and (RSS, MODULES) its seq.
pub const ColdRecord = struct {
    offset: u64,
    thread_id: u32,
    seq: u64,
};

/// next_seq of a thread with no more events.
const done_seq = std.math.maxInt(u64);

pub const Scan = struct {
    gpa: Allocator,
    bytes: []const u8,
    walk: chunk_walk.Walk,
    threads: []Thread,
    stacks: Stacks,
    fold: Fold,
    cold: std.ArrayListUnmanaged(ColdRecord) = .empty,
    /// Where the caller watches progress (from another thread): [0] chunk record bytes decoded,
    /// [1] all of them. Updated once per chunk.
    progress: ?*[2]u64 = null,
    done_bytes: u64 = 0,

    pub fn init(gpa: Allocator, bytes: []const u8, layout: chunk_walk.Layout) Error!Scan {
        var walk = try chunk_walk.walk(gpa, bytes, layout);
        errdefer walk.deinit(gpa);
        const threads = try gpa.alloc(Thread, walk.threads.items.len);
        errdefer gpa.free(threads);
        for (threads, walk.threads.items) |*t, *w| t.* = .{ .thread_id = w.thread_id, .chunks = w.chunks.items };
        var stacks = try Stacks.init(gpa);
        errdefer stacks.deinit();
        return .{
            .gpa = gpa,
            .bytes = bytes,
            .walk = walk,
            .threads = threads,
            .stacks = stacks,
            .fold = try Fold.init(gpa),
        };
    }

    pub fn deinit(self: *Scan) void {
        for (self.threads) |*t| t.deinit(self.gpa);
        self.gpa.free(self.threads);
        self.walk.deinit(self.gpa);
        self.stacks.deinit();
        self.fold.deinit();
        self.cold.deinit(self.gpa);
    }

    /// Decodes and folds every event in seq order.
    pub fn run(self: *Scan) Error!void {
        if (self.progress) |p| {
            var total: u64 = 0;
            for (self.threads) |t| {
                for (t.chunks) |c| total += c.end - c.records_start;
            }
            @atomicStore(u64, &p[1], total, .monotonic);
        }
        for (self.threads) |*t| try self.advance(t, 0);
        // Every round folds at least one event or ends a thread.
        var rounds: usize = 0;
        while (true) : (rounds += 1) {
            assert(rounds <= self.bytes.len + self.threads.len);
            var best: ?*Thread = null;
            var limit: u64 = done_seq;
            for (self.threads) |*t| {
                if (best == null or t.next_seq < best.?.next_seq) {
                    if (best) |b| limit = @min(limit, b.next_seq);
                    best = t;
                } else {
                    limit = @min(limit, t.next_seq);
                }
            }
            const b = best orelse break;
            if (b.next_seq == done_seq) break;
            // Equal seqs in two threads: the TypeScript scan's order then depends on its batches.
            if (limit == b.next_seq) return error.Corrupt;
            try self.advance(b, limit);
        }
    }

    /// Decodes `t`'s records, folding events, until its next event's seq would pass `limit` or
    /// the thread has no more records.
    fn advance(self: *Scan, t: *Thread, limit: u64) Error!void {
        if (!t.started) {
            t.started = true;
            if (!t.next_chunk()) {
                t.next_seq = done_seq;
                return;
            }
        }
        const buf = self.bytes;
        var c: Cursor = .{ .buf = buf, .pos = t.pos, .end = t.end };
        var seq = t.seq;
        var py_top = t.py_top();
        var native_top = t.native_top();
        // Every iteration consumes a record or a chunk, or returns: bounded by the bytes.
        var steps: usize = 0;
        while (true) : (steps += 1) {
            assert(steps <= buf.len + t.chunks.len);
            if (c.pos >= c.end) {
                self.chunk_done(t);
                if (!t.next_chunk()) {
                    t.next_seq = done_seq;
                    break;
                }
                c.pos = t.pos;
                c.end = t.end;
                seq = t.seq;
                continue;
            }
            const start = c.pos;
            const record_type = buf[c.pos];
            c.pos += 1;
            if (record_type >= 0x80) {
                const s = seq +% 1;
                if (s == 0 or s >= records.exact_limit) return error.Corrupt;
                // `>=`: an event at another thread's next seq stops here, so the next round sees the
                // two equal seqs and steps aside (error.Corrupt) instead of folding both.
                if (s >= limit) {
                    c.pos = start;
                    t.next_seq = s;
                    break;
                }
                var kind = records.inline_kinds[record_type & 7];
                if (kind == 0) {
                    const escaped_at = c.pos;
                    kind = c.byte();
                    if (!records.is_event_kind(kind) and escaped_at < c.end) return error.Corrupt;
                }
                const slot: u4 = @truncate(record_type >> 3);
                var addr: u64 = undefined;
                if (slot == 15) {
                    // A miss: z = varint (up to 65 bits); h = z >> 1 read directly into 64 bits.
                    // Deltas of nearby blocks take 2-3 bytes: those unrolled.
                    var b = c.byte();
                    const odd = b & 1;
                    var h: u64 = (b & 0x7f) >> 1;
                    if (b >= 0x80) {
                        b = c.byte();
                        h |= @as(u64, b & 0x7f) << 6;
                        if (b >= 0x80) {
                            b = c.byte();
                            h |= @as(u64, b & 0x7f) << 13;
                            var shift: u6 = 20;
                            var n: usize = 3;
                            while (b >= 0x80) : (n += 1) {
                                if (n == 10) {
                                    c.pos = c.end + 1;
                                    break;
                                }
                                b = c.byte();
                                h |= @as(u64, b & 0x7f) << shift;
                                shift +|= 7;
                            }
                        }
                    }
                    const d: u64 = @bitCast(chunk_walk.unzigzag(h));
                    addr = t.mru_front() +% (if (odd == 1) d else d *% 16);
                } else {
                    addr = t.mru_at(slot);
                }
                var size_bytes: u64 = 0;
                if (kind <= records.kind_alloc_last or kind == records.kind_munmap) size_bytes = c.varint();
                if (c.overran()) {
                    try t.cut_off(start);
                    c.pos = t.pos;
                    c.end = t.end;
                    continue;
                }
                if (addr >= records.exact_limit or size_bytes >= records.exact_limit) return error.Corrupt;
                t.mru_use(slot, addr);
                if (s <= t.last_seq) return error.Corrupt; // Sequence numbers go backwards.
                seq = s;
                t.last_seq = s;
                const is_alloc = kind <= records.kind_alloc_last;
                try self.fold.event_at(
                    s,
                    kind,
                    addr,
                    size_bytes,
                    t.thread_id,
                    if (is_alloc) py_top else 0,
                    if (is_alloc) native_top else 0,
                );
                continue;
            }
            if (record_type > 0x60 and record_type <= 0x7f) {
                seq +%= record_type - 0x60;
                continue;
            }
            t.pos = start;
            t.end = c.end;
            t.seq = seq;
            try self.other_record(t, record_type);
            c.pos = t.pos;
            c.end = t.end;
            seq = t.seq;
            py_top = t.py_top();
            native_top = t.native_top();
        }
        t.pos = c.pos;
        t.end = c.end;
        t.seq = seq;
    }

    /// The thread's current chunk is decoded: progress moves on (cold: once per chunk).
    fn chunk_done(self: *Scan, t: *const Thread) void {
        if (t.chunk == 0) return;
        const c = t.chunks[t.chunk - 1];
        self.done_bytes += c.end - c.records_start;
        const p = self.progress orelse return;
        assert(self.done_bytes <= @atomicLoad(u64, &p[1], .monotonic));
        @atomicStore(u64, &p[0], self.done_bytes, .monotonic);
    }

    /// Decodes one non-event record at `t.pos` (cold path; stacks are the common case).
    fn other_record(self: *Scan, t: *Thread, record_type: u8) Error!void {
        const start = t.pos;
        assert(start < t.end);
        var c: Cursor = .{ .buf = self.bytes, .pos = start + 1, .end = t.end };
        switch (record_type) {
            0x00...0x0f => {
                // PY_TOP_HIT: the top frame becomes top-cache slot `record_type`.
                if (record_type >= t.top.len) return error.Corrupt;
                t.top.hit(record_type);
                t.pos = c.pos;
                try t.replace_python_top(&self.stacks, t.top.frames[0]);
            },
            0x10 => {
                const z = c.varint();
                if (c.overran()) return t.cut_off(start);
                if (t.top.len == 0) return error.Corrupt;
                const front = t.top.frames[0];
                const frame: PyFrame = .{ .raw = front.raw, .offset = front.offset +% chunk_walk.unzigzag(z) };
                if (!records.exact_frame(frame)) return error.Corrupt;
                t.top.insert(frame);
                t.pos = c.pos;
                try t.replace_python_top(&self.stacks, t.top.frames[0]);
            },
            0x20, 0x21 => try t.stack_record(&self.stacks, &c, record_type == 0x20),
            0x60 => {
                const skip = c.varint();
                if (c.overran()) return t.cut_off(start);
                t.seq +%= skip;
                t.pos = c.pos;
            },
            0x30 => {
                _ = c.varint();
                _ = c.varint();
                for (0..4) |_| c.skip_bytes();
                try self.cold_record(t, &c, start, 0);
            },
            0x31 => {
                c.skip_bytes();
                try self.cold_record(t, &c, start, 0);
            },
            0x32 => {
                _ = c.varint();
                _ = c.byte();
                try self.cold_record(t, &c, start, 0);
            },
            0x33 => {
                _ = c.varint();
                try self.cold_record(t, &c, start, null);
            },
            0x40 => {
                const seq_delta = c.varint();
                _ = c.varint();
                _ = c.varint();
                const listed = self.cold.items.len;
                try self.cold_record(t, &c, start, seq_delta);
                // Listed (not cut off): the memory plot wants the heap at this sample.
                if (self.cold.items.len > listed) try self.fold.rss_sample(t.seq);
            },
            0x41 => {
                const seq_delta = c.varint();
                try skip_modules(&c);
                try self.cold_record(t, &c, start, seq_delta);
            },
            0x42 => {
                for (0..3) |_| _ = c.varint();
                try self.cold_record(t, &c, start, null);
            },
            else => return error.Corrupt, // LOCATION outside an aggregated capture, or unknown.
        }
    }

    /// Ends a measured record: `seq_delta` is added to the thread's seq (RSS, MODULES); null
    /// means the TypeScript side has no use for the record.
    fn cold_record(self: *Scan, t: *Thread, c: *const Cursor, start: usize, seq_delta: ?u64) Error!void {
        if (c.overran()) return t.cut_off(start);
        assert(c.pos > start);
        t.pos = c.pos;
        const delta = seq_delta orelse return;
        t.seq +%= delta;
        if (t.seq >= records.exact_limit) return error.Corrupt;
        try self.cold.append(self.gpa, .{ .offset = start, .thread_id = t.thread_id, .seq = t.seq });
    }
};

/// Skips a MODULES body after its seq delta, as `readModules` reads it.
fn skip_modules(c: *Cursor) Error!void {
    _ = c.varint(); // generation
    const count = c.varint();
    if (count > records.max_list) return error.Corrupt;
    var i: u64 = 0;
    while (i < count and !c.overran()) : (i += 1) {
        c.skip_bytes(); // path
        _ = c.varint(); // load_base
        c.skip_bytes(); // build_id
        const segments = c.varint();
        if (segments > records.max_list) return error.Corrupt;
        var j: u64 = 0;
        while (j < segments and !c.overran()) : (j += 1) {
            _ = c.varint();
            _ = c.varint();
        }
    }
}
