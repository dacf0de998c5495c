//! The result of folding a capture (`memrayd_fold_capture`), laid out for lib/ffi.ts to read:
//! scalars as f64, then compact arrays (pointer, byte length) that the TypeScript side copies
//! into typed arrays and builds its reports from. One allocation arena holds it all until
//! `memrayd_fold_free`.
const std = @import("std");
const assert = std.debug.assert;
const Allocator = std.mem.Allocator;
const capture_scan = @import("capture_scan.zig");
const chunk_walk = @import("chunk_walk.zig");
const live_set = @import("live_set.zig");

pub const Layout = chunk_walk.Layout;

/// Result statuses (the `status` field). Keep in step with lib/ffi.ts.
pub const status_ok: f64 = 0;
/// The capture needs the TypeScript scan (it rejects it, or reads an oddity differently).
pub const status_corrupt: f64 = -2;
pub const status_out_of_memory: f64 = -5;

/// The arrays of a result, in `arrays` order. Element types in the comments.
pub const Arrays = enum(u32) {
    /// u32: thread ids in order of each thread's first chunk (the sampler's included).
    threads,
    /// f64 triples: offset, thread id, seq of the records the TypeScript side decodes.
    cold_records,
    /// f64 triples: code id, is_entry, instruction offset of each Python frame id.
    py_frames,
    /// i32 pairs: parent node, frame id of each Python stack node from 1 on.
    py_tree,
    /// f64: instruction pointer of each native frame id.
    native_ips,
    /// i32 pairs: parent node, frame id of each native stack node from 1 on.
    native_tree,
    /// f64 quadruples: Python stack node, native stack node (0: none), bytes, count, in order of
    /// the pair's first allocation.
    stats_nodes,
    /// f64 pairs: requested size, allocations, in order of first allocation.
    stats_sizes,
    /// f64 pairs: allocator kind, allocations, in order of first allocation.
    stats_kinds,
    /// f64 sextuples per location live at the peak, in order of its first allocation: Python
    /// stack node, native stack node, thread id (of the first), allocator kind (of the first),
    /// bytes, count.
    peak_locations,
    /// f64: the heap at each RSS sample (after every event with a lower seq), in the order of
    /// the samples among `cold_records`.
    rss_heap,
    /// f64 sextuples per location live at the end (the leaks), as `peak_locations`.
    leak_locations,
};
pub const array_count = @typeInfo(Arrays).@"enum".fields.len;

pub const Array = extern struct {
    ptr: ?*const anyopaque = null,
    byte_length: u64 = 0,
};

pub const FoldResult = extern struct {
    status: f64,
    event_count: f64 = 0,
    alloc_count: f64 = 0,
    alloc_bytes: f64 = 0,
    peak_bytes: f64 = 0,
    /// Index of the peak's event among all events in seq order; -1 without events.
    peak_index: f64 = -1,
    end_heap_bytes: f64 = 0,
    /// 1 when a chunk was cut off by the end of the file (a crash).
    cut_off: f64 = 0,
    arrays: [array_count]Array = @splat(.{}),
};

/// A result and the arena of its arrays (memray_fold.zig fills one too).
pub const Holder = struct {
    result: FoldResult,
    arena: std.heap.ArenaAllocator,
};

/// Folds `bytes`; null only when not even the result fits in memory.
/// `progress`, when given, is updated as capture_scan.zig `Scan.progress` says.
pub fn fold_capture(
    gpa: Allocator,
    bytes: []const u8,
    layout: chunk_walk.Layout,
    merge_threads: bool,
    progress: ?*[2]u64,
) ?*FoldResult {
    return run(gpa, fill, .{ bytes, layout, merge_threads, progress });
}

/// A new result filled by `fill_fn(gpa, holder, args...)` (an `error{ Corrupt, OutOfMemory }`
/// function); a failed fill leaves no arrays, only its status. Null only when not even the
/// result fits in memory. Shared by `fold_capture` and memray_fold.zig `fold_memray`.
pub fn run(gpa: Allocator, comptime fill_fn: anytype, args: anytype) ?*FoldResult {
    const holder = gpa.create(Holder) catch return null;
    holder.* = .{ .result = .{ .status = status_ok }, .arena = std.heap.ArenaAllocator.init(gpa) };
    @call(.auto, fill_fn, .{ gpa, holder } ++ args) catch |err| {
        _ = holder.arena.reset(.free_all);
        holder.result = .{ .status = switch (err) {
            error.Corrupt => status_corrupt,
            error.OutOfMemory => status_out_of_memory,
        } };
    };
    assert(holder.result.status <= 0);
    return &holder.result;
}

/// Frees a result of `run` and everything it points to.
pub fn free(gpa: Allocator, result: *FoldResult) void {
    const holder: *Holder = @fieldParentPtr("result", result);
    assert(holder.result.status <= 0);
    holder.arena.deinit();
    gpa.destroy(holder);
}

fn fill(
    gpa: Allocator,
    holder: *Holder,
    bytes: []const u8,
    layout: chunk_walk.Layout,
    merge_threads: bool,
    progress: ?*[2]u64,
) chunk_walk.Error!void {
    var scan = try capture_scan.Scan.init(gpa, bytes, layout);
    defer scan.deinit();
    scan.progress = progress;
    try scan.run();
    try publish(gpa, holder, &scan, scan.walk.cut_off, merge_threads);
}

/// Fills `holder`'s result from a finished scan: anything with the fields of capture_scan.zig
/// `Scan` that are read here (`fold`, `stacks`, `threads[i].thread_id`, `cold`).
pub fn publish(gpa: Allocator, holder: *Holder, scan: anytype, cut_off: bool, merge_threads: bool) Allocator.Error!void {
    const out = holder.arena.allocator();
    const r = &holder.result;
    const fold = &scan.fold;
    r.event_count = @floatFromInt(fold.event_count);
    r.alloc_count = @floatFromInt(fold.alloc_count);
    r.alloc_bytes = @floatFromInt(fold.alloc_bytes);
    r.peak_bytes = @floatFromInt(fold.peak_bytes);
    r.peak_index = if (fold.event_count == 0) -1 else @floatFromInt(fold.live.peak_index);
    r.end_heap_bytes = @floatFromInt(fold.live.heap_bytes);
    r.cut_off = if (cut_off) 1 else 0;

    const threads = try out.alloc(u32, scan.threads.len);
    for (threads, scan.threads) |*id, t| id.* = t.thread_id;
    set(r, .threads, threads);

    const cold = try out.alloc(f64, 3 * scan.cold.items.len);
    for (scan.cold.items, 0..) |c, i| put(cold[3 * i ..], &.{ c.offset, c.thread_id, c.seq });
    set(r, .cold_records, cold);

    const stacks = &scan.stacks;
    const py_frames = try out.alloc(f64, 3 * stacks.py_frames.items.len);
    for (stacks.py_frames.items, 0..) |f, i| {
        py_frames[3 * i] = @floatFromInt(f.raw >> 1);
        py_frames[3 * i + 1] = @floatFromInt(f.raw & 1);
        py_frames[3 * i + 2] = @floatFromInt(f.offset);
    }
    set(r, .py_frames, py_frames);
    set(r, .py_tree, try tree_pairs(out, &stacks.py_tree));
    const ips = try out.alloc(f64, stacks.native_ips.items.len);
    for (ips, stacks.native_ips.items) |*d, ip| d.* = @floatFromInt(ip);
    set(r, .native_ips, ips);
    set(r, .native_tree, try tree_pairs(out, &stacks.native_tree));

    const nodes = try out.alloc(f64, 4 * fold.stacks.items.len);
    for (fold.stacks.items, 0..) |t, i| {
        put(nodes[4 * i ..], &.{ t.py_stack, t.native_stack, t.bytes, t.count });
    }
    set(r, .stats_nodes, nodes);
    const sizes = try out.alloc(f64, 2 * fold.size_order.items.len);
    for (fold.size_order.items, 0..) |s, i| put(sizes[2 * i ..], &.{ s, fold.size_count(s) });
    set(r, .stats_sizes, sizes);
    const kinds = try out.alloc(f64, 2 * fold.kind_order.items.len);
    for (fold.kind_order.items, 0..) |k, i| put(kinds[2 * i ..], &.{ k, fold.kind_counts[k] });
    set(r, .stats_kinds, kinds);

    const peak_rows = try fold.live.peak_rows(gpa);
    defer gpa.free(peak_rows);
    set(r, .peak_locations, try locations(gpa, out, peak_rows, merge_threads));
    const live_rows = try fold.live.live_rows(gpa);
    defer gpa.free(live_rows);
    set(r, .leak_locations, try locations(gpa, out, live_rows, merge_threads));

    fold.finish_samples();
    const heaps = try out.alloc(f64, fold.sample_heap_bytes.items.len);
    for (heaps, fold.sample_heap_bytes.items) |*d, h| d.* = @floatFromInt(h);
    set(r, .rss_heap, heaps);
}

fn set(r: *FoldResult, which: Arrays, items: anytype) void {
    const bytes = std.mem.sliceAsBytes(items);
    r.arrays[@intFromEnum(which)] = .{ .ptr = if (bytes.len == 0) null else bytes.ptr, .byte_length = bytes.len };
}

fn put(to: []f64, values: []const u64) void {
    assert(to.len >= values.len);
    for (values, 0..) |v, i| to[i] = @floatFromInt(v);
}

fn tree_pairs(out: Allocator, tree: anytype) Allocator.Error![]i32 {
    const n = tree.count();
    assert(n >= 1);
    const pairs = try out.alloc(i32, 2 * (n - 1));
    for (1..n) |node| {
        pairs[2 * (node - 1)] = tree.parent.items[node];
        pairs[2 * (node - 1) + 1] = tree.frame.items[node];
    }
    return pairs;
}

const LocationKey = struct { py: u32, native: u32, thread_id: u32 };

/// Groups allocations (at the peak, or at the end) by (Python stack, native stack, thread or 0
/// when merged), in order of their first allocation, as lib/analysis/locations.ts groupColumns.
/// Sorts `rows`; pieces of one mapping tie, but they share their location.
fn locations(gpa: Allocator, out: Allocator, rows: []live_set.Row, merge_threads: bool) Allocator.Error![]f64 {
    std.mem.sort(live_set.Row, rows, {}, struct {
        fn less(_: void, a: live_set.Row, b: live_set.Row) bool {
            return a.index < b.index;
        }
    }.less);
    var groups: std.AutoHashMapUnmanaged(LocationKey, u32) = .empty;
    defer groups.deinit(gpa);
    var located: std.ArrayListUnmanaged(f64) = .empty;
    defer located.deinit(gpa);
    for (rows) |row| {
        const key: LocationKey = .{
            .py = row.py_stack,
            .native = row.native_stack,
            .thread_id = if (merge_threads) 0 else row.thread_id,
        };
        const g = try groups.getOrPut(gpa, key);
        if (!g.found_existing) {
            g.value_ptr.* = @intCast(located.items.len / 6);
            const first = [6]u64{ row.py_stack, row.native_stack, row.thread_id, row.kind, 0, 0 };
            const slots = try located.addManyAsSlice(gpa, 6);
            put(slots, &first);
        }
        const at = 6 * @as(usize, g.value_ptr.*);
        located.items[at + 4] += @floatFromInt(row.bytes);
        located.items[at + 5] += 1;
    }
    assert(located.items.len == 6 * groups.count());
    return out.dupe(f64, located.items);
}
