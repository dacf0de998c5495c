//! The DWARF of one debug file: its units, which unit holds an address, and per unit (parsed on
//! first use, a bounded number kept) the line table and the scope tree. `frames` expands one
//! address into its frames, innermost inlined call first.
const std = @import("std");
const assert = std.debug.assert;
const rd = @import("reader.zig");
const du = @import("dwarf_unit.zig");
const ranges = @import("dwarf_ranges.zig");
const lines = @import("dwarf_lines.zig");
const inline_scopes = @import("inline.zig");

pub const Error = du.Error;

/// Parsed units kept at once; past that every parsed unit is dropped (addresses are cached
/// above this layer, so units are rarely parsed twice).
const max_cached_units: usize = 256;
const max_units: usize = 1 << 22;
/// Inlined calls nested deeper than this are cut (bad data loops are impossible: parents
/// precede children, but deep chains must not overflow the caller's buffer).
pub const max_frames: usize = 32;
const max_name_hops: usize = 8;

/// One frame before demangling and interning: slices stay valid until the next call.
pub const RawFrame = struct {
    /// Raw (possibly mangled) name; null when DWARF does not name the scope.
    name: ?[]const u8,
    file: []const u8,
    line: u32,
    inlined: bool,
};

const CuRange = struct { low: u64, high: u64, unit: u32 };

const CuData = struct {
    arena: std.heap.ArenaAllocator,
    table: ?lines.LineTable,
    scopes: inline_scopes.Scopes,
};

pub const Dwarf = struct {
    gpa: std.mem.Allocator,
    s: du.Sections,
    units: []du.Unit,
    cu_ranges: []CuRange,
    abbrev_arena: std.heap.ArenaAllocator,
    abbrevs: std.AutoHashMapUnmanaged(u64, du.AbbrevTable) = .empty,
    cus: std.AutoHashMapUnmanaged(u32, *CuData) = .empty,
    /// Units or line tables that failed to parse (the report notes it once).
    corrupt_units: u32 = 0,

    pub fn init(gpa: std.mem.Allocator, s: du.Sections) Error!Dwarf {
        var d = Dwarf{ .gpa = gpa, .s = s, .units = &.{}, .cu_ranges = &.{}, .abbrev_arena = .init(gpa) };
        errdefer d.abbrev_arena.deinit();
        var units: std.ArrayListUnmanaged(du.Unit) = .empty;
        errdefer units.deinit(gpa);
        var found: std.ArrayListUnmanaged(CuRange) = .empty;
        errdefer found.deinit(gpa);
        var scratch: std.ArrayListUnmanaged(ranges.Range) = .empty;
        defer scratch.deinit(gpa);
        var offset: u64 = 0;
        for (0..max_units) |_| {
            if (offset >= s.info.len) break;
            const header = du.readUnitHeader(s.info, offset) catch {
                d.corrupt_units += 1;
                break; // the next unit's position is unknown
            };
            assert(header.end > offset);
            offset = header.end;
            var unit = header.unit orelse continue;
            const index: u32 = @intCast(units.items.len);
            d.readUnitDie(&unit, &scratch) catch |err| switch (err) {
                error.OutOfMemory => return error.OutOfMemory,
                error.Corrupt => d.corrupt_units += 1,
            };
            try units.append(gpa, unit);
            for (scratch.items) |range| try found.append(gpa, .{ .low = range.low, .high = range.high, .unit = index });
        }
        d.units = try units.toOwnedSlice(gpa);
        try d.addAranges(&found);
        std.mem.sort(CuRange, found.items, {}, struct {
            fn lt(_: void, a: CuRange, b: CuRange) bool {
                return a.low < b.low;
            }
        }.lt);
        d.cu_ranges = try found.toOwnedSlice(gpa);
        return d;
    }

    pub fn deinit(d: *Dwarf) void {
        d.dropUnits();
        d.cus.deinit(d.gpa);
        d.abbrevs.deinit(d.gpa);
        d.abbrev_arena.deinit();
        d.gpa.free(d.units);
        d.gpa.free(d.cu_ranges);
        d.* = undefined;
    }

    fn dropUnits(d: *Dwarf) void {
        var it = d.cus.valueIterator();
        while (it.next()) |cu| {
            cu.*.arena.deinit();
            d.gpa.destroy(cu.*);
        }
        d.cus.clearRetainingCapacity();
    }

    fn abbrevTable(d: *Dwarf, offset: u64) Error!du.AbbrevTable {
        if (d.abbrevs.get(offset)) |table| return table;
        const table = try du.parseAbbrevTable(d.abbrev_arena.allocator(), d.s.abbrev, offset);
        try d.abbrevs.put(d.gpa, offset, table);
        return table;
    }

    fn readUnitDie(d: *Dwarf, unit: *du.Unit, out: *std.ArrayListUnmanaged(ranges.Range)) Error!void {
        out.clearRetainingCapacity();
        const table = try d.abbrevTable(unit.abbrev_offset);
        var r = rd.Reader{ .bytes = d.s.info[0..@intCast(unit.end)], .pos = @intCast(unit.die_start) };
        const die = try du.readDie(&r, unit, table) orelse return error.Corrupt;
        if (die.str_offsets_base.asUnsigned()) |base| unit.str_offsets_base = base;
        if (die.addr_base.asUnsigned()) |base| unit.addr_base = base;
        if (die.rnglists_base.asUnsigned()) |base| unit.rnglists_base = base;
        unit.low_pc = du.address(&d.s, unit, die.low_pc) orelse 0;
        unit.stmt_list = die.stmt_list.asUnsigned();
        unit.name = du.string(&d.s, unit, die.name) orelse "";
        unit.comp_dir = du.string(&d.s, unit, die.comp_dir) orelse "";
        if (die.tag == du.tag.compile_unit or die.tag == du.tag.skeleton_unit) {
            try ranges.collect(d.gpa, &d.s, unit, &die, out);
        }
    }

    /// .debug_aranges for units whose DIE gave no ranges.
    fn addAranges(d: *Dwarf, found: *std.ArrayListUnmanaged(CuRange)) Error!void {
        var covered = try std.DynamicBitSetUnmanaged.initEmpty(d.gpa, d.units.len);
        defer covered.deinit(d.gpa);
        for (found.items) |range| covered.set(range.unit);
        var r = rd.Reader.init(d.s.aranges);
        for (0..max_units) |_| {
            if (r.done()) return;
            const length = r.int(u32) catch return;
            if (length >= 0xffff_fff0) return; // 64-bit aranges: rare, units cover it
            var set = r.sub(length) catch return;
            _ = set.int(u16) catch return;
            const info_offset = set.int(u32) catch return;
            const addr_size = set.byte() catch return;
            _ = set.byte() catch return;
            if (addr_size != 4 and addr_size != 8) return;
            // Tuples start at a multiple of twice the address size from the set's start.
            const consumed = 12;
            set.skip(std.mem.alignForward(usize, consumed, 2 * addr_size) - consumed) catch return;
            const unit = d.unitAt(info_offset) orelse continue;
            if (covered.isSet(unit)) continue;
            for (0..set.remaining() / (2 * addr_size) + 1) |_| {
                const low = set.sized(addr_size) catch break;
                const size = set.sized(addr_size) catch break;
                if (low == 0 and size == 0) break;
                if (size > 0) try found.append(d.gpa, .{ .low = low, .high = low +| size, .unit = unit });
            }
        }
    }

    /// The index of the unit starting at or holding `offset` of .debug_info.
    fn unitAt(d: *const Dwarf, offset: u64) ?u32 {
        var low: usize = 0;
        var high: usize = d.units.len;
        while (low < high) {
            const middle = low + (high - low) / 2;
            if (d.units[middle].offset <= offset) low = middle + 1 else high = middle;
        }
        if (low == 0) return null;
        return if (offset < d.units[low - 1].end) @intCast(low - 1) else null;
    }

    fn unitFor(d: *const Dwarf, address: u64) ?u32 {
        var low: usize = 0;
        var high: usize = d.cu_ranges.len;
        while (low < high) {
            const middle = low + (high - low) / 2;
            if (d.cu_ranges[middle].low <= address) low = middle + 1 else high = middle;
        }
        // Unit ranges may overlap (bad data, or units of discarded code at low addresses).
        var index = low;
        for (0..16) |_| {
            if (index == 0) return null;
            index -= 1;
            const range = d.cu_ranges[index];
            if (address < range.high) return range.unit;
        }
        return null;
    }

    fn cuData(d: *Dwarf, index: u32) Error!*CuData {
        if (d.cus.get(index)) |cu| return cu;
        if (d.cus.count() >= max_cached_units) d.dropUnits();
        const unit = &d.units[index];
        const cu = try d.gpa.create(CuData);
        cu.* = .{ .arena = .init(d.gpa), .table = null, .scopes = .{ .nodes = &.{}, .segments = &.{} } };
        errdefer {
            cu.arena.deinit();
            d.gpa.destroy(cu);
        }
        const arena = cu.arena.allocator();
        if (unit.stmt_list) |offset| {
            cu.table = lines.parse(arena, &d.s, unit, offset) catch |err| switch (err) {
                error.OutOfMemory => return error.OutOfMemory,
                error.Corrupt => blk: {
                    d.corrupt_units += 1;
                    break :blk null;
                },
            };
        }
        const table = try d.abbrevTable(unit.abbrev_offset);
        cu.scopes = inline_scopes.build(arena, d.gpa, &d.s, unit, table) catch |err| switch (err) {
            error.OutOfMemory => return error.OutOfMemory,
            error.Corrupt => blk: {
                d.corrupt_units += 1;
                break :blk .{ .nodes = &.{}, .segments = &.{} };
            },
        };
        try d.cus.put(d.gpa, index, cu);
        return cu;
    }

    /// The frames of `address`, innermost first, into `out`; 0 when no unit covers it.
    pub fn frames(d: *Dwarf, address: u64, out: *[max_frames]RawFrame) Error!usize {
        const index = d.unitFor(address) orelse return 0;
        const cu = try d.cuData(index);
        var file: []const u8 = "";
        var line: u32 = 0;
        if (cu.table) |table| if (table.lookup(address)) |row| {
            file = table.fileName(row.file);
            line = row.line;
        };
        var node_index = cu.scopes.innermost(address) orelse {
            out[0] = .{ .name = null, .file = file, .line = line, .inlined = false };
            return 1;
        };
        var count: usize = 0;
        while (count < max_frames) {
            const node = cu.scopes.nodes[node_index];
            out[count] = .{ .name = d.dieName(node.die_offset), .file = file, .line = line, .inlined = node.inlined };
            count += 1;
            if (!node.inlined or node.parent == inline_scopes.no_node) break;
            assert(node.parent < node_index);
            if (cu.table) |table| file = table.fileName(node.call_file);
            line = node.call_line;
            node_index = node.parent;
        }
        assert(count >= 1);
        return count;
    }

    /// The linkage name of a DIE, else its name, following abstract_origin and specification.
    fn dieName(d: *Dwarf, die_offset: u64) ?[]const u8 {
        var offset = die_offset;
        var plain: ?[]const u8 = null;
        for (0..max_name_hops) |_| {
            const index = d.unitAt(offset) orelse break;
            const unit = &d.units[index];
            const table = d.abbrevTable(unit.abbrev_offset) catch break;
            var r = rd.Reader.at(d.s.info[0..@intCast(unit.end)], offset) catch break;
            const die = (du.readDie(&r, unit, table) catch break) orelse break;
            if (du.string(&d.s, unit, die.linkage_name)) |name| return name;
            if (plain == null) plain = du.string(&d.s, unit, die.name);
            offset = switch (die.abstract_origin) {
                .ref => |ref| ref,
                else => switch (die.specification) {
                    .ref => |ref| ref,
                    else => break,
                },
            };
        }
        return plain;
    }
};
