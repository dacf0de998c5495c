//! The live set of a fold: what lib/analysis/live_table.ts keeps, with the same semantics, plus
//! what the peak snapshot needs in one pass. Simple allocations live in an open-addressing table
//! keyed by address (a missing free replaces the old allocation; frees of unknown addresses are
//! ignored); mmap regions are ranges a munmap may shrink or split, and every piece left of a split
//! mapping is an allocation of its own (as memray's snapshot counts each remaining range).
//!
//! The peak in one pass: a new high-water mark (`note_peak`) empties `saved`; afterwards every
//! allocation live at that peak that is freed, replaced or unmapped is copied to `saved` first
//! (once: its bytes, or a mapping's pieces, as they stood at the peak). So the allocations live at the peak are the live
//! ones allocated at or before it plus `saved`, and memory stays bounded by the live allocations.
const std = @import("std");
const assert = std.debug.assert;
const Allocator = std.mem.Allocator;

pub const kind_mmap: u8 = 0x09;
pub const kind_free: u8 = 0x11;
pub const kind_munmap: u8 = 0x12;
pub const kind_pymalloc_free: u8 = 0x13;

/// One live allocation: its allocating event (index among all events in seq order), live bytes,
/// stacks, thread and allocator kind.
pub const Row = struct {
    index: u64,
    bytes: u64,
    py_stack: u32,
    native_stack: u32,
    thread_id: u32,
    kind: u8,
};

const Mapping = struct {
    /// The allocating event; `bytes` unused (each piece has its own).
    row: Row,
    /// Ranges left of it; 0 once fully unmapped (the mapping id is then free for reuse).
    pieces: u32,
    /// The peak epoch in which it was copied to `saved`.
    saved_epoch: u64,
};

const Range = struct {
    start: u64,
    end: u64,
    mapping: u32,
};

/// Marks an empty slot of `keys`. The address itself lives in `top_row` instead.
const empty_key: u64 = std.math.maxInt(u64);
const initial_capacity_log2 = 12;

pub const LiveSet = struct {
    gpa: Allocator,
    heap_bytes: u64 = 0,
    /// Live simple allocations in `keys` (`top_row` not counted).
    size: usize = 0,
    /// Addresses, probed linearly; apart from the rows so that a probe stays in few cache lines.
    keys: []u64,
    rows: []Row,
    /// The allocation at address `empty_key`, which `keys` cannot hold.
    top_row: ?Row = null,
    shift: u6,
    mappings: std.ArrayListUnmanaged(Mapping) = .empty,
    free_mappings: std.ArrayListUnmanaged(u32) = .empty,
    ranges: std.ArrayListUnmanaged(Range) = .empty,
    /// The latest high-water mark: the index of its event; valid once `epoch` > 0.
    peak_index: u64 = 0,
    epoch: u64 = 0,
    saved: std.ArrayListUnmanaged(Row) = .empty,

    pub fn init(gpa: Allocator) Allocator.Error!LiveSet {
        const keys = try gpa.alloc(u64, 1 << initial_capacity_log2);
        errdefer gpa.free(keys);
        @memset(keys, empty_key);
        const rows = try gpa.alloc(Row, keys.len);
        return .{ .gpa = gpa, .keys = keys, .rows = rows, .shift = 64 - initial_capacity_log2 };
    }

    pub fn deinit(self: *LiveSet) void {
        self.gpa.free(self.keys);
        self.gpa.free(self.rows);
        self.mappings.deinit(self.gpa);
        self.free_mappings.deinit(self.gpa);
        self.ranges.deinit(self.gpa);
        self.saved.deinit(self.gpa);
    }

    fn home(self: *const LiveSet, addr: u64) usize {
        return @intCast((addr *% 0x9E3779B97F4A7C15) >> self.shift);
    }

    /// Applies one event (`row.bytes` is its size); `row.index` must exceed every earlier one.
    pub fn apply(self: *LiveSet, addr: u64, row: Row) Allocator.Error!void {
        assert(self.epoch == 0 or row.index > self.peak_index);
        switch (row.kind) {
            kind_free, kind_pymalloc_free => self.heap_bytes -%= try self.remove(addr),
            kind_munmap => self.heap_bytes -%= try self.unmap(addr, addr +| row.bytes),
            kind_mmap => {
                try self.map(addr, row);
                self.heap_bytes +%= row.bytes;
            },
            else => {
                const old_bytes = try self.put(addr, row);
                self.heap_bytes = self.heap_bytes -% old_bytes +% row.bytes;
            },
        }
    }

    /// The heap just reached a high-water mark (ties included) at event `index`.
    pub fn note_peak(self: *LiveSet, index: u64) void {
        assert(self.epoch == 0 or index >= self.peak_index);
        self.peak_index = index;
        self.epoch += 1;
        self.saved.clearRetainingCapacity();
    }

    fn live_at_peak(self: *const LiveSet, row: Row) bool {
        return self.epoch > 0 and row.index <= self.peak_index;
    }

    /// Inserts or replaces; returns the replaced allocation's bytes (0 when new).
    fn put(self: *LiveSet, addr: u64, row: Row) Allocator.Error!u64 {
        if (addr == empty_key) {
            const old = self.top_row;
            self.top_row = row;
            return if (old) |o| try self.replaced(o) else 0;
        }
        // A quarter full at most: probes and backward shifts stay short (measured: 12% faster
        // folds than half full on bench/big_capture).
        if ((self.size + 1) * 4 > self.keys.len) try self.grow();
        const mask = self.keys.len - 1;
        var i = self.home(addr);
        // Bounded by the table size; at most a quarter full, so an empty slot is always found.
        for (0..self.keys.len) |_| {
            const key = self.keys[i];
            if (key == empty_key) {
                self.keys[i] = addr;
                self.rows[i] = row;
                self.size += 1;
                return 0;
            }
            if (key == addr) {
                const old = self.rows[i];
                self.rows[i] = row;
                return self.replaced(old);
            }
            i = (i + 1) & mask;
        }
        unreachable;
    }

    /// `old` stops being live: kept when it was live at the peak; returns its bytes.
    fn replaced(self: *LiveSet, old: Row) Allocator.Error!u64 {
        if (self.live_at_peak(old)) try self.saved.append(self.gpa, old);
        return old.bytes;
    }

    /// Removes `addr`; returns its bytes, 0 when it is not live.
    fn remove(self: *LiveSet, addr: u64) Allocator.Error!u64 {
        if (addr == empty_key) {
            const old = self.top_row orelse return 0;
            self.top_row = null;
            return self.replaced(old);
        }
        const mask = self.keys.len - 1;
        var i = self.home(addr);
        var found = false;
        for (0..self.keys.len) |_| {
            const key = self.keys[i];
            if (key == empty_key) return 0;
            if (key == addr) {
                found = true;
                break;
            }
            i = (i + 1) & mask;
        }
        if (!found) return 0;
        const old = self.rows[i];
        assert(self.size > 0);
        self.size -= 1;
        // Backward-shift deletion: later members of the probe run move into the hole, so
        // lookups never need tombstones.
        var hole = i;
        var j = i;
        for (0..self.keys.len) |_| {
            j = (j + 1) & mask;
            const key = self.keys[j];
            if (key == empty_key) break;
            const h = self.home(key);
            // Entry j may fill the hole when its home is not cyclically within (hole, j].
            const movable = if (hole <= j) (h <= hole or h > j) else (h <= hole and h > j);
            if (!movable) continue;
            self.keys[hole] = key;
            self.rows[hole] = self.rows[j];
            hole = j;
        }
        self.keys[hole] = empty_key;
        return self.replaced(old);
    }

    fn grow(self: *LiveSet) Allocator.Error!void {
        const old_keys = self.keys;
        const old_rows = self.rows;
        assert(old_keys.len >= 1 << initial_capacity_log2);
        const keys = try self.gpa.alloc(u64, old_keys.len * 2);
        errdefer self.gpa.free(keys);
        @memset(keys, empty_key);
        const rows = try self.gpa.alloc(Row, keys.len);
        self.keys = keys;
        self.rows = rows;
        self.shift -= 1;
        const mask = keys.len - 1;
        for (old_keys, old_rows) |key, row| {
            if (key == empty_key) continue;
            var i = self.home(key);
            while (keys[i] != empty_key) i = (i + 1) & mask;
            keys[i] = key;
            rows[i] = row;
        }
        self.gpa.free(old_keys);
        self.gpa.free(old_rows);
    }

    fn map(self: *LiveSet, addr: u64, row: Row) Allocator.Error!void {
        const mapping: Mapping = .{ .row = row, .pieces = 1, .saved_epoch = 0 };
        var id: u32 = undefined;
        if (self.free_mappings.pop()) |reused| {
            id = reused;
            self.mappings.items[id] = mapping;
        } else {
            id = @intCast(self.mappings.items.len);
            try self.mappings.append(self.gpa, mapping);
        }
        try self.ranges.append(self.gpa, .{ .start = addr, .end = addr +| row.bytes, .mapping = id });
    }

    /// Removes [start, end) from every mapping; returns the bytes removed.
    fn unmap(self: *LiveSet, start: u64, end: u64) Allocator.Error!u64 {
        // First keep the pieces, as they stand, of every mapping live at the peak this touches.
        for (self.ranges.items) |r| {
            if (r.end <= start or r.start >= end) continue;
            const m = &self.mappings.items[r.mapping];
            if (!self.live_at_peak(m.row) or m.saved_epoch == self.epoch) continue;
            m.saved_epoch = self.epoch;
            for (self.ranges.items) |piece| {
                if (piece.mapping != r.mapping) continue;
                var row = m.row;
                row.bytes = piece.end - piece.start;
                try self.saved.append(self.gpa, row);
            }
        }
        var removed: u64 = 0;
        var kept: usize = 0;
        const count = self.ranges.items.len;
        var i: usize = 0;
        // Each range is visited once; pieces split off the right go to the end, unvisited.
        while (i < count) : (i += 1) {
            const r = self.ranges.items[i];
            if (r.end <= start or r.start >= end) {
                self.ranges.items[kept] = r;
                kept += 1;
                continue;
            }
            const m = &self.mappings.items[r.mapping];
            assert(m.pieces > 0);
            const overlap = @min(r.end, end) - @max(r.start, start);
            removed += overlap;
            m.pieces -= 1;
            if (r.start < start) {
                self.ranges.items[kept] = .{ .start = r.start, .end = start, .mapping = r.mapping };
                kept += 1;
                m.pieces += 1;
            }
            if (r.end > end) {
                try self.ranges.append(self.gpa, .{ .start = end, .end = r.end, .mapping = r.mapping });
                m.pieces += 1;
            }
            if (m.pieces == 0) try self.free_mappings.append(self.gpa, r.mapping);
        }
        // Move the right-hand pieces appended past `count` down behind the kept ones.
        const appended = self.ranges.items.len - count;
        assert(kept <= count);
        std.mem.copyForwards(Range, self.ranges.items[kept..][0..appended], self.ranges.items[count..][0..appended]);
        self.ranges.shrinkRetainingCapacity(kept + appended);
        return removed;
    }

    /// The allocations live now (at the end of a fold: the leaks), in no particular order; each
    /// piece left of a mapping is one.
    pub fn live_rows(self: *const LiveSet, gpa: Allocator) Allocator.Error![]Row {
        var rows: std.ArrayListUnmanaged(Row) = .empty;
        errdefer rows.deinit(gpa);
        try rows.ensureTotalCapacity(gpa, self.size + self.ranges.items.len + 1);
        for (self.keys, self.rows) |key, row| {
            if (key != empty_key) rows.appendAssumeCapacity(row);
        }
        assert(rows.items.len == self.size);
        if (self.top_row) |row| rows.appendAssumeCapacity(row);
        for (self.ranges.items) |piece| {
            const m = self.mappings.items[piece.mapping];
            assert(m.pieces > 0);
            var row = m.row;
            row.bytes = piece.end - piece.start;
            rows.appendAssumeCapacity(row);
        }
        return rows.toOwnedSlice(gpa);
    }

    /// The allocations live at the latest high-water mark (empty before any event), in no
    /// particular order.
    pub fn peak_rows(self: *const LiveSet, gpa: Allocator) Allocator.Error![]Row {
        var rows: std.ArrayListUnmanaged(Row) = .empty;
        errdefer rows.deinit(gpa);
        if (self.epoch == 0) return rows.toOwnedSlice(gpa);
        try rows.appendSlice(gpa, self.saved.items);
        for (self.keys, self.rows) |key, row| {
            if (key != empty_key and row.index <= self.peak_index) try rows.append(gpa, row);
        }
        if (self.top_row) |row| {
            if (row.index <= self.peak_index) try rows.append(gpa, row);
        }
        for (self.ranges.items) |piece| {
            const m = self.mappings.items[piece.mapping];
            assert(m.pieces > 0);
            if (m.saved_epoch == self.epoch or m.row.index > self.peak_index) continue;
            var row = m.row;
            row.bytes = piece.end - piece.start;
            try rows.append(gpa, row);
        }
        assert(rows.items.len >= self.saved.items.len);
        return rows.toOwnedSlice(gpa);
    }
};
