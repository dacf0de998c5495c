//! What `stats` and the peak snapshot keep of a capture's events, folded in seq order: the live
//! set (live_set.zig) with the running heap and its high-water mark (ties go to the latest event,
//! as memray's), and the totals of lib/analysis/stats.ts StatsAccumulator (sizes, allocators and
//! (Python stack node, native stack node) pairs, each in order of first allocation). State is
//! bounded by the distinct sizes and stacks and the live allocations, whatever the number of
//! events.
//!
//! The memory plot of the HTML reports needs the heap at each RSS sample: the heap after every
//! event with a lower seq (reporters/html/data/page_common.ts `rawMemory`). Samples are
//! registered (`rss_sample`) before any event past them is folded (a thread's records are decoded
//! in order, and the scan folds the lowest seq first), wait in `pending` sorted by seq, and take
//! the heap when the first event past them comes (`event_at`) or when the fold ends.
const std = @import("std");
const assert = std.debug.assert;
const Allocator = std.mem.Allocator;
const LiveSet = @import("live_set.zig").LiveSet;

pub const kind_alloc_first: u8 = 0x01;
pub const kind_alloc_last: u8 = 0x0c;

/// Sizes below this count in a flat array; larger ones in a hash map.
const small_sizes = 1 << 16;

/// An RSS sample waiting for the first event past it: its seq and its place among the samples.
const Sample = struct { seq: u64, ordinal: u32 };

pub const SampleError = error{Corrupt} || Allocator.Error;

/// The allocations of one (Python stack node, native stack node) pair: `stats` keys a native
/// capture's locations by the leaf of the merged stack, which the native stack decides.
pub const StackTotals = struct {
    py_stack: u32,
    native_stack: u32,
    bytes: u64 = 0,
    count: u64 = 0,
};

/// Seqs a sample may have: those a TypeScript Number holds exactly (as the scan requires).
const sample_seq_limit: u64 = 1 << 53;

pub const Fold = struct {
    gpa: Allocator,
    live: LiveSet,
    /// Events folded so far; the next event's index.
    event_count: u64 = 0,
    peak_bytes: u64 = 0,
    alloc_count: u64 = 0,
    alloc_bytes: u64 = 0,
    small_size_counts: []u64,
    big_size_counts: std.AutoHashMapUnmanaged(u64, u64) = .empty,
    /// Sizes in order of first allocation (memray's dict order).
    size_order: std.ArrayListUnmanaged(u64) = .empty,
    kind_counts: [256]u64 = @splat(0),
    kind_order: std.ArrayListUnmanaged(u8) = .empty,
    /// Per (Python stack, native stack) pair: its allocations, in order of the first one.
    stacks: std.ArrayListUnmanaged(StackTotals) = .empty,
    /// By Python stack node: 1 + the index in `stacks` of (node, no native stack), 0 for none.
    /// Captures without native traces (every native stack 0) never hash.
    py_slots: std.ArrayListUnmanaged(u32) = .empty,
    /// (Python node << 32 | native node) -> index in `stacks`, for pairs with a native stack.
    pair_slots: std.AutoHashMapUnmanaged(u64, u32) = .empty,
    /// Samples by seq (ties in order of registration); those before `pending_head` are done.
    pending: std.ArrayListUnmanaged(Sample) = .empty,
    pending_head: usize = 0,
    /// The heap at each sample, in order of registration (`rss_sample`).
    sample_heap_bytes: std.ArrayListUnmanaged(u64) = .empty,
    /// The seq of the latest event given to `event_at`; null before the first.
    last_event_seq: ?u64 = null,

    pub fn init(gpa: Allocator) Allocator.Error!Fold {
        var live = try LiveSet.init(gpa);
        errdefer live.deinit();
        const counts = try gpa.alloc(u64, small_sizes);
        @memset(counts, 0);
        return .{ .gpa = gpa, .live = live, .small_size_counts = counts };
    }

    pub fn deinit(self: *Fold) void {
        self.live.deinit();
        self.gpa.free(self.small_size_counts);
        self.big_size_counts.deinit(self.gpa);
        self.size_order.deinit(self.gpa);
        self.kind_order.deinit(self.gpa);
        self.stacks.deinit(self.gpa);
        self.py_slots.deinit(self.gpa);
        self.pair_slots.deinit(self.gpa);
        self.pending.deinit(self.gpa);
        self.sample_heap_bytes.deinit(self.gpa);
    }

    /// Registers an RSS sample at `seq`; its heap is that after every event with a lower seq.
    /// error.Corrupt when an event at or past `seq` was already folded (a capture whose seqs
    /// collide across threads: the TypeScript reader decides then).
    pub fn rss_sample(self: *Fold, seq: u64) SampleError!void {
        if (seq >= sample_seq_limit) return error.Corrupt;
        if (self.last_event_seq) |last| {
            if (seq <= last) return error.Corrupt;
        }
        const ordinal: u32 = std.math.cast(u32, self.sample_heap_bytes.items.len) orelse return error.Corrupt;
        try self.sample_heap_bytes.append(self.gpa, 0);
        try self.pending.append(self.gpa, .{ .seq = seq, .ordinal = ordinal });
        // Insertion from the back: samples come in seq order but for odd captures. Every seq
        // before `pending_head` is below `last_event_seq`, so the new one never moves past it.
        var i = self.pending.items.len - 1;
        while (i > self.pending_head and self.pending.items[i - 1].seq > seq) : (i -= 1) {
            std.mem.swap(Sample, &self.pending.items[i - 1], &self.pending.items[i]);
        }
        assert(i >= self.pending_head);
        assert(self.pending.items[i].ordinal == ordinal);
    }

    /// Gives the current heap to every pending sample with a seq below `seq`.
    fn take_samples_before(self: *Fold, seq: u64) void {
        const items = self.pending.items;
        var head = self.pending_head;
        while (head < items.len and items[head].seq < seq) : (head += 1) {
            self.sample_heap_bytes.items[items[head].ordinal] = self.live.heap_bytes;
        }
        assert(head <= items.len);
        self.pending_head = head;
    }

    /// The fold is over: every pending sample takes the final heap.
    pub fn finish_samples(self: *Fold) void {
        // Seqs are below 2^53 (the scan refuses others): maxInt is past every sample.
        self.take_samples_before(std.math.maxInt(u64));
        assert(self.pending_head == self.pending.items.len);
        assert(self.sample_heap_bytes.items.len == self.pending.items.len);
    }

    /// Folds the next event, at `seq` (above every earlier event's), after giving the samples
    /// before it their heap.
    pub fn event_at(
        self: *Fold,
        seq: u64,
        kind: u8,
        addr: u64,
        size_bytes: u64,
        thread_id: u32,
        py_stack: u32,
        native_stack: u32,
    ) Allocator.Error!void {
        assert(self.last_event_seq == null or seq > self.last_event_seq.?);
        if (self.pending_head < self.pending.items.len) self.take_samples_before(seq);
        self.last_event_seq = seq;
        try self.event(kind, addr, size_bytes, thread_id, py_stack, native_stack);
    }

    /// Folds the next event in seq order. `kind` is a valid event kind; allocations carry the
    /// allocating thread's stacks, deallocations ignore them.
    pub fn event(
        self: *Fold,
        kind: u8,
        addr: u64,
        size_bytes: u64,
        thread_id: u32,
        py_stack: u32,
        native_stack: u32,
    ) Allocator.Error!void {
        const index = self.event_count;
        self.event_count += 1;
        try self.live.apply(addr, .{
            .index = index,
            .bytes = size_bytes,
            .py_stack = py_stack,
            .native_stack = native_stack,
            .thread_id = thread_id,
            .kind = kind,
        });
        if (self.live.heap_bytes >= self.peak_bytes) {
            self.peak_bytes = self.live.heap_bytes;
            self.live.note_peak(index);
        }
        assert(self.live.epoch > 0);
        if (kind < kind_alloc_first or kind > kind_alloc_last) return;
        try self.allocation(kind, size_bytes, py_stack, native_stack);
    }

    fn allocation(
        self: *Fold,
        kind: u8,
        size_bytes: u64,
        py_stack: u32,
        native_stack: u32,
    ) Allocator.Error!void {
        assert(kind >= kind_alloc_first and kind <= kind_alloc_last);
        self.alloc_count += 1;
        self.alloc_bytes +%= size_bytes;
        if (size_bytes < small_sizes) {
            const slot = &self.small_size_counts[@intCast(size_bytes)];
            if (slot.* == 0) try self.size_order.append(self.gpa, size_bytes);
            slot.* += 1;
        } else {
            const entry = try self.big_size_counts.getOrPut(self.gpa, size_bytes);
            if (!entry.found_existing) {
                entry.value_ptr.* = 0;
                try self.size_order.append(self.gpa, size_bytes);
            }
            entry.value_ptr.* += 1;
        }
        if (self.kind_counts[kind] == 0) try self.kind_order.append(self.gpa, kind);
        self.kind_counts[kind] += 1;
        const totals = try self.stack_totals(py_stack, native_stack);
        totals.count += 1;
        totals.bytes +%= size_bytes;
    }

    /// The totals of (py_stack, native_stack), appended to `stacks` on its first allocation.
    fn stack_totals(self: *Fold, py_stack: u32, native_stack: u32) Allocator.Error!*StackTotals {
        const index: u32 = @intCast(self.stacks.items.len);
        if (native_stack == 0) {
            if (py_stack >= self.py_slots.items.len) {
                const before = self.py_slots.items.len;
                const len = @max(@as(usize, py_stack) + 1, 2 * before);
                try self.py_slots.resize(self.gpa, len);
                @memset(self.py_slots.items[before..], 0);
            }
            const slot = &self.py_slots.items[py_stack];
            if (slot.* == 0) {
                try self.stacks.append(self.gpa, .{ .py_stack = py_stack, .native_stack = 0 });
                slot.* = index + 1;
            }
            assert(slot.* >= 1 and slot.* <= self.stacks.items.len);
            return &self.stacks.items[slot.* - 1];
        }
        const key = (@as(u64, py_stack) << 32) | native_stack;
        const entry = try self.pair_slots.getOrPut(self.gpa, key);
        if (!entry.found_existing) {
            errdefer _ = self.pair_slots.remove(key);
            try self.stacks.append(self.gpa, .{ .py_stack = py_stack, .native_stack = native_stack });
            entry.value_ptr.* = index;
        }
        const totals = &self.stacks.items[entry.value_ptr.*];
        assert(totals.py_stack == py_stack and totals.native_stack == native_stack);
        return totals;
    }

    /// How many allocations of `size_bytes` were folded.
    pub fn size_count(self: *const Fold, size_bytes: u64) u64 {
        if (size_bytes < small_sizes) return self.small_size_counts[@intCast(size_bytes)];
        return self.big_size_counts.get(size_bytes) orelse 0;
    }
};

test "the peak snapshot of one pass: ties go to the latest event, frees after the peak kept" {
    var fold = try Fold.init(std.testing.allocator);
    defer fold.deinit();
    try fold.event(0x01, 0x1000, 100, 1, 3, 0); // heap 100
    try fold.event(0x01, 0x2000, 50, 1, 4, 0); // heap 150
    try fold.event(0x11, 0x2000, 0, 1, 0, 0); // heap 100
    try fold.event(0x01, 0x3000, 50, 2, 5, 0); // heap 150: a tie, the latest wins
    try fold.event(0x11, 0x1000, 0, 1, 0, 0); // heap 50
    try fold.event(0x11, 0x9000, 0, 1, 0, 0); // unknown address: ignored
    try std.testing.expectEqual(@as(u64, 150), fold.peak_bytes);
    try std.testing.expectEqual(@as(u64, 3), fold.live.peak_index);
    const rows = try fold.live.peak_rows(std.testing.allocator);
    defer std.testing.allocator.free(rows);
    try std.testing.expectEqual(@as(usize, 2), rows.len);
    var total: u64 = 0;
    for (rows) |r| total += r.bytes;
    try std.testing.expectEqual(@as(u64, 150), total);
    try std.testing.expectEqual(@as(u64, 3), fold.alloc_count);
    try std.testing.expectEqual(@as(u64, 2), fold.size_count(50));
}

test "stack totals per (Python stack, native stack) pair, in order of first allocation" {
    var fold = try Fold.init(std.testing.allocator);
    defer fold.deinit();
    try fold.event(0x01, 0x1000, 100, 1, 3, 7); // (3, 7)
    try fold.event(0x01, 0x2000, 50, 1, 3, 0); // (3, 0): same Python stack, no native one
    try fold.event(0x01, 0x3000, 20, 2, 3, 7); // (3, 7) again, another thread
    try fold.event(0x11, 0x3000, 0, 2, 0, 0); // frees count nowhere
    try fold.event(0x01, 0x4000, 5, 1, 3, 8); // (3, 8): another native stack
    try fold.event(0x01, 0x5000, 1, 1, 9, 0); // a Python node past the slots grown so far
    const expected = [_]StackTotals{
        .{ .py_stack = 3, .native_stack = 7, .bytes = 120, .count = 2 },
        .{ .py_stack = 3, .native_stack = 0, .bytes = 50, .count = 1 },
        .{ .py_stack = 3, .native_stack = 8, .bytes = 5, .count = 1 },
        .{ .py_stack = 9, .native_stack = 0, .bytes = 1, .count = 1 },
    };
    try std.testing.expectEqualSlices(StackTotals, &expected, fold.stacks.items);
}

test "a partial munmap splits a mapping into pieces, each an allocation at the peak" {
    var fold = try Fold.init(std.testing.allocator);
    defer fold.deinit();
    try fold.event(0x09, 0x10000, 0x4000, 1, 1, 0); // heap 0x4000: the peak
    try fold.event(0x12, 0x11000, 0x1000, 1, 0, 0); // split into two pieces
    try std.testing.expectEqual(@as(u64, 0x3000), fold.live.heap_bytes);
    try fold.event(0x12, 0x10000, 0x800, 1, 0, 0);
    const rows = try fold.live.peak_rows(std.testing.allocator);
    defer std.testing.allocator.free(rows);
    // The peak was the whole mapping, before any munmap.
    try std.testing.expectEqual(@as(usize, 1), rows.len);
    try std.testing.expectEqual(@as(u64, 0x4000), rows[0].bytes);
    try std.testing.expectEqual(@as(u64, 0x2800), fold.live.heap_bytes);
    // A later, higher peak sees the two pieces left.
    try fold.event(0x01, 0x90000, 0x1801, 1, 2, 0);
    const later = try fold.live.peak_rows(std.testing.allocator);
    defer std.testing.allocator.free(later);
    try std.testing.expectEqual(@as(usize, 3), later.len);
    var mapped: u64 = 0;
    for (later) |r| {
        if (r.kind == 0x09) mapped += r.bytes;
    }
    try std.testing.expectEqual(@as(u64, 0x2800), mapped);
}

test "the heap at each RSS sample: after every event with a lower seq, in registration order" {
    var fold = try Fold.init(std.testing.allocator);
    defer fold.deinit();
    try fold.rss_sample(1); // before any event: heap 0
    try fold.rss_sample(5);
    try fold.rss_sample(3); // out of order: still the heap after events below seq 3
    try fold.event_at(2, 0x01, 0x1000, 100, 1, 1, 0); // heap 100
    try fold.event_at(4, 0x01, 0x2000, 50, 1, 1, 0); // heap 150
    try fold.event_at(6, 0x11, 0x1000, 0, 1, 0, 0); // heap 50
    try std.testing.expectError(error.Corrupt, fold.rss_sample(6));
    try fold.rss_sample(9); // after the last event: the final heap
    fold.finish_samples();
    try std.testing.expectEqualSlices(u64, &.{ 0, 150, 100, 50 }, fold.sample_heap_bytes.items);
}
