//! The function scopes of one unit: DW_TAG_subprogram and DW_TAG_inlined_subroutine DIEs with
//! code, as a tree (each inlined call knows its caller scope and its call site), flattened into
//! disjoint address segments that each name the innermost scope. One address then expands to
//! its chain of frames: innermost inlined call first, the out-of-line function last.
const std = @import("std");
const assert = std.debug.assert;
const rd = @import("reader.zig");
const du = @import("dwarf_unit.zig");
const ranges = @import("dwarf_ranges.zig");

pub const no_node: u32 = std.math.maxInt(u32);
const max_depth: usize = 512;
const max_dies: usize = 1 << 26;

pub const Node = struct {
    /// The DIE, for its name (through abstract_origin/specification when it has none itself).
    die_offset: u64,
    parent: u32,
    call_file: u32,
    call_line: u32,
    inlined: bool,
};

pub const Segment = struct { low: u64, high: u64, node: u32 };

pub const Scopes = struct {
    nodes: []const Node,
    segments: []const Segment,

    /// The innermost scope whose code holds `address`.
    pub fn innermost(s: Scopes, address: u64) ?u32 {
        var low: usize = 0;
        var high: usize = s.segments.len;
        while (low < high) {
            const middle = low + (high - low) / 2;
            if (s.segments[middle].low <= address) low = middle + 1 else high = middle;
        }
        if (low == 0) return null;
        const segment = s.segments[low - 1];
        assert(segment.low <= address);
        return if (address < segment.high) segment.node else null;
    }
};

const Item = struct {
    low: u64,
    high: u64,
    node: u32,
    depth: u32,

    fn before(_: void, a: Item, b: Item) bool {
        if (a.low != b.low) return a.low < b.low;
        if (a.depth != b.depth) return a.depth < b.depth;
        return a.high > b.high;
    }
};

/// Walks the unit's DIEs. `arena` holds the result; `gpa` only scratch.
pub fn build(arena: std.mem.Allocator, gpa: std.mem.Allocator, s: *const du.Sections, unit: *const du.Unit, table: du.AbbrevTable) du.Error!Scopes {
    var nodes: std.ArrayListUnmanaged(Node) = .empty;
    var items: std.ArrayListUnmanaged(Item) = .empty;
    defer items.deinit(gpa);
    var found: std.ArrayListUnmanaged(ranges.Range) = .empty;
    defer found.deinit(gpa);
    // The enclosing scope at each DIE nesting level.
    var stack: [max_depth]u32 = undefined;
    var depth: usize = 0;
    var r = rd.Reader{ .bytes = s.info[0..@intCast(unit.end)], .pos = @intCast(unit.die_start) };
    for (0..max_dies) |_| {
        if (r.done()) break;
        const die = try du.readDie(&r, unit, table) orelse {
            if (depth == 0) continue; // padding after the unit DIE's children
            depth -= 1;
            continue;
        };
        const enclosing = if (depth == 0) no_node else stack[depth - 1];
        var scope = enclosing;
        if (die.tag == du.tag.subprogram or die.tag == du.tag.inlined_subroutine) {
            found.clearRetainingCapacity();
            ranges.collect(gpa, s, unit, &die, &found) catch |err| switch (err) {
                error.OutOfMemory => return error.OutOfMemory,
                error.Corrupt => found.clearRetainingCapacity(),
            };
            if (found.items.len > 0) {
                if (nodes.items.len >= no_node) return error.Corrupt;
                scope = @intCast(nodes.items.len);
                const inlined = die.tag == du.tag.inlined_subroutine;
                try nodes.append(arena, .{
                    .die_offset = die.offset,
                    .parent = if (inlined) enclosing else no_node,
                    .call_file = @intCast(@min(die.call_file.asUnsigned() orelse 0, std.math.maxInt(u32))),
                    .call_line = @intCast(@min(die.call_line.asUnsigned() orelse 0, std.math.maxInt(u32))),
                    .inlined = inlined,
                });
                for (found.items) |range| {
                    try items.append(gpa, .{ .low = range.low, .high = range.high, .node = scope, .depth = @intCast(depth) });
                }
            }
        }
        if (die.has_children) {
            if (depth == max_depth) return error.Corrupt;
            stack[depth] = scope;
            depth += 1;
        }
    } else return error.Corrupt;
    std.mem.sort(Item, items.items, {}, Item.before);
    return .{ .nodes = nodes.items, .segments = try sweep(arena, gpa, items.items) };
}

/// Flattens nested ranges into disjoint segments naming the innermost range. Ranges that
/// overlap without nesting (bad data) are cut to their enclosing range.
fn sweep(arena: std.mem.Allocator, gpa: std.mem.Allocator, items: []const Item) du.Error![]const Segment {
    var out: std.ArrayListUnmanaged(Segment) = .empty;
    var open: std.ArrayListUnmanaged(Item) = .empty;
    defer open.deinit(gpa);
    var cursor: u64 = 0;
    for (items) |item_in| {
        var item = item_in;
        while (open.items.len > 0 and open.items[open.items.len - 1].high <= item.low) {
            const top = open.pop().?;
            if (cursor < top.high) {
                try out.append(arena, .{ .low = cursor, .high = top.high, .node = top.node });
                cursor = top.high;
            }
        }
        if (open.items.len > 0) {
            const top = open.items[open.items.len - 1];
            if (cursor < item.low) try out.append(arena, .{ .low = cursor, .high = item.low, .node = top.node });
            item.high = @min(item.high, top.high);
        }
        cursor = item.low;
        if (item.high > item.low) try open.append(gpa, item);
    }
    while (open.pop()) |top| {
        if (cursor < top.high) {
            try out.append(arena, .{ .low = cursor, .high = top.high, .node = top.node });
            cursor = top.high;
        }
    }
    for (out.items[1..@max(out.items.len, 1)], 0..) |segment, index| assert(out.items[index].high <= segment.low);
    return out.items;
}

test "inline: sweep nests ranges" {
    var arena_state = std.heap.ArenaAllocator.init(std.testing.allocator);
    defer arena_state.deinit();
    const items = [_]Item{
        .{ .low = 0x100, .high = 0x200, .node = 0, .depth = 1 },
        .{ .low = 0x120, .high = 0x140, .node = 1, .depth = 2 },
        .{ .low = 0x128, .high = 0x130, .node = 2, .depth = 3 },
        .{ .low = 0x150, .high = 0x160, .node = 3, .depth = 2 },
        .{ .low = 0x300, .high = 0x310, .node = 4, .depth = 1 },
    };
    const segments = try sweep(arena_state.allocator(), std.testing.allocator, &items);
    const scopes = Scopes{ .nodes = &.{}, .segments = segments };
    try std.testing.expectEqual(@as(?u32, 0), scopes.innermost(0x100));
    try std.testing.expectEqual(@as(?u32, 1), scopes.innermost(0x127));
    try std.testing.expectEqual(@as(?u32, 2), scopes.innermost(0x12f));
    try std.testing.expectEqual(@as(?u32, 1), scopes.innermost(0x130));
    try std.testing.expectEqual(@as(?u32, 0), scopes.innermost(0x140));
    try std.testing.expectEqual(@as(?u32, 3), scopes.innermost(0x15f));
    try std.testing.expectEqual(@as(?u32, 0), scopes.innermost(0x1ff));
    try std.testing.expectEqual(@as(?u32, null), scopes.innermost(0x200));
    try std.testing.expectEqual(@as(?u32, 4), scopes.innermost(0x300));
}
