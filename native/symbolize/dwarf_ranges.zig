//! The pc ranges of a DIE: DW_AT_low_pc/high_pc, or DW_AT_ranges in .debug_ranges (DWARF 2-4)
//! or .debug_rnglists (DWARF 5, also through DW_FORM_rnglistx).
const std = @import("std");
const assert = std.debug.assert;
const rd = @import("reader.zig");
const du = @import("dwarf_unit.zig");
const Reader = rd.Reader;

pub const Range = struct { low: u64, high: u64 };

/// More entries than this in one list is garbage.
const max_list_entries: usize = 1 << 20;

/// Appends the DIE's non-empty ranges to `out`. `base` is the unit's base address (its low_pc).
pub fn collect(gpa: std.mem.Allocator, s: *const du.Sections, unit: *const du.Unit, die: *const du.Die, out: *std.ArrayListUnmanaged(Range)) du.Error!void {
    if (du.address(s, unit, die.low_pc)) |low| {
        const high: u64 = switch (die.high_pc) {
            .unsigned => |size| std.math.add(u64, low, size) catch return error.Corrupt,
            .signed => |size| if (size >= 0) std.math.add(u64, low, @intCast(size)) catch return error.Corrupt else return error.Corrupt,
            else => du.address(s, unit, die.high_pc) orelse return,
        };
        if (high > low) try out.append(gpa, .{ .low = low, .high = high });
        return;
    }
    switch (die.ranges) {
        .sec_offset, .unsigned => |offset| {
            if (unit.version >= 5) return rnglist(gpa, s, unit, offset, out);
            return rangeList(gpa, s.ranges, unit, offset, out);
        },
        .rnglistx => |index| {
            const size: u8 = if (unit.is64) 8 else 4;
            const at = rd.add(unit.rnglists_base, std.math.mul(u64, index, size) catch return error.Corrupt) catch return error.Corrupt;
            var r = try Reader.at(s.rnglists, at);
            const relative = try r.sized(size);
            return rnglist(gpa, s, unit, try rd.add(unit.rnglists_base, relative), out);
        },
        else => {},
    }
}

fn rangeList(gpa: std.mem.Allocator, section: []const u8, unit: *const du.Unit, offset: u64, out: *std.ArrayListUnmanaged(Range)) du.Error!void {
    var r = try Reader.at(section, offset);
    var base = unit.low_pc;
    const all_ones: u64 = if (unit.addr_size == 8) std.math.maxInt(u64) else std.math.maxInt(u32);
    for (0..max_list_entries) |_| {
        const begin = try r.sized(unit.addr_size);
        const end = try r.sized(unit.addr_size);
        if (begin == 0 and end == 0) return;
        if (begin == all_ones) {
            base = end;
            continue;
        }
        const low = base +% begin;
        const high = base +% end;
        if (high > low) try out.append(gpa, .{ .low = low, .high = high });
    }
    return error.Corrupt;
}

fn rnglist(gpa: std.mem.Allocator, s: *const du.Sections, unit: *const du.Unit, offset: u64, out: *std.ArrayListUnmanaged(Range)) du.Error!void {
    var r = try Reader.at(s.rnglists, offset);
    var base = unit.low_pc;
    for (0..max_list_entries) |_| {
        const kind = try r.byte();
        var low: u64 = 0;
        var high: u64 = 0;
        switch (kind) {
            0 => return,
            1 => {
                base = du.address(s, unit, .{ .addrx = try r.uleb() }) orelse return error.Corrupt;
                continue;
            },
            2 => {
                low = du.address(s, unit, .{ .addrx = try r.uleb() }) orelse return error.Corrupt;
                high = du.address(s, unit, .{ .addrx = try r.uleb() }) orelse return error.Corrupt;
            },
            3 => {
                low = du.address(s, unit, .{ .addrx = try r.uleb() }) orelse return error.Corrupt;
                high = low +% try r.uleb();
            },
            4 => {
                low = base +% try r.uleb();
                high = base +% try r.uleb();
            },
            5 => {
                base = try r.sized(unit.addr_size);
                continue;
            },
            6 => {
                low = try r.sized(unit.addr_size);
                high = try r.sized(unit.addr_size);
            },
            7 => {
                low = try r.sized(unit.addr_size);
                high = low +% try r.uleb();
            },
            else => return error.Corrupt,
        }
        if (high > low) try out.append(gpa, .{ .low = low, .high = high });
    }
    return error.Corrupt;
}

test "dwarf_ranges: low/high, v4 list with base selection, v5 list" {
    const gpa = std.testing.allocator;
    var out: std.ArrayListUnmanaged(Range) = .empty;
    defer out.deinit(gpa);
    var unit = du.Unit{ .offset = 0, .end = 0, .die_start = 0, .version = 4, .addr_size = 8, .is64 = false, .abbrev_offset = 0, .low_pc = 0x1000 };
    var die = du.Die{ .offset = 0, .tag = du.tag.subprogram, .has_children = false, .low_pc = .{ .address = 0x10 }, .high_pc = .{ .unsigned = 0x20 } };
    try collect(gpa, &.{}, &unit, &die, &out);
    try std.testing.expectEqual(Range{ .low = 0x10, .high = 0x30 }, out.items[0]);
    var v4: [48]u8 = undefined;
    std.mem.writeInt(u64, v4[0..8], 1, .little);
    std.mem.writeInt(u64, v4[8..16], 5, .little);
    std.mem.writeInt(u64, v4[16..24], std.math.maxInt(u64), .little);
    std.mem.writeInt(u64, v4[24..32], 0x5000, .little);
    std.mem.writeInt(u64, v4[32..40], 0, .little);
    std.mem.writeInt(u64, v4[40..48], 0, .little);
    // Not terminated in the first 40 bytes: corrupt.
    try std.testing.expectError(error.Corrupt, rangeList(gpa, v4[0..40], &unit, 0, &out));
    out.clearRetainingCapacity();
    try rangeList(gpa, v4[0..16] ++ [_]u8{0} ** 16, &unit, 0, &out);
    try std.testing.expectEqual(Range{ .low = 0x1001, .high = 0x1005 }, out.items[0]);
    out.clearRetainingCapacity();
    unit.version = 5;
    const v5 = [_]u8{ 4, 0x10, 0x18, 7, 0, 0x20, 0, 0, 0, 0, 0, 0, 4, 0 };
    const sections = du.Sections{ .rnglists = &v5 };
    try rnglist(gpa, &sections, &unit, 0, &out);
    try std.testing.expectEqual(@as(usize, 2), out.items.len);
    try std.testing.expectEqual(Range{ .low = 0x1010, .high = 0x1018 }, out.items[0]);
    try std.testing.expectEqual(Range{ .low = 0x2000, .high = 0x2004 }, out.items[1]);
}
