//! What `stats` and the peak snapshot keep of a capture's events, folded in seq order: the live
//! set (live_set.zig) with the running heap and its high-water mark (ties go to the latest event,
//! as memray's), and the totals of lib/analysis/stats.ts StatsAccumulator (sizes, allocators and
//! Python stack nodes, each in order of first allocation). State is bounded by the distinct sizes
//! and stacks and the live allocations, whatever the number of events.
const std = @import("std");
const assert = std.debug.assert;
const Allocator = std.mem.Allocator;
const LiveSet = @import("live_set.zig").LiveSet;

pub const kind_alloc_first: u8 = 0x01;
pub const kind_alloc_last: u8 = 0x0c;

/// Sizes below this count in a flat array; larger ones in a hash map.
const small_sizes = 1 << 16;

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
    /// Per Python stack node: bytes and count of its allocations; nodes in order of first one.
    node_bytes: std.ArrayListUnmanaged(u64) = .empty,
    node_counts: std.ArrayListUnmanaged(u64) = .empty,
    node_order: std.ArrayListUnmanaged(u32) = .empty,

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
        self.node_bytes.deinit(self.gpa);
        self.node_counts.deinit(self.gpa);
        self.node_order.deinit(self.gpa);
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
        try self.allocation(kind, size_bytes, py_stack);
    }

    fn allocation(self: *Fold, kind: u8, size_bytes: u64, py_stack: u32) Allocator.Error!void {
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
        if (py_stack >= self.node_counts.items.len) {
            const len = @max(py_stack + 1, 2 * self.node_counts.items.len);
            const before = self.node_counts.items.len;
            try self.node_counts.resize(self.gpa, len);
            try self.node_bytes.resize(self.gpa, len);
            @memset(self.node_counts.items[before..], 0);
            @memset(self.node_bytes.items[before..], 0);
        }
        if (self.node_counts.items[py_stack] == 0) try self.node_order.append(self.gpa, py_stack);
        self.node_counts.items[py_stack] += 1;
        self.node_bytes.items[py_stack] +%= size_bytes;
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
