//! DWARF 2-5 units of .debug_info: unit headers, abbreviation tables, attribute forms, and
//! reading one DIE into the few attributes symbolization needs (names, pc ranges, call sites).
const std = @import("std");
const assert = std.debug.assert;
const rd = @import("reader.zig");
const Reader = rd.Reader;

pub const Error = error{ Corrupt, OutOfMemory };

/// The sections of one debug file; empty slices for absent ones.
pub const Sections = struct {
    info: []const u8 = &.{},
    abbrev: []const u8 = &.{},
    line: []const u8 = &.{},
    str: []const u8 = &.{},
    line_str: []const u8 = &.{},
    str_offsets: []const u8 = &.{},
    addr: []const u8 = &.{},
    ranges: []const u8 = &.{},
    rnglists: []const u8 = &.{},
    aranges: []const u8 = &.{},
};

pub const tag = struct {
    pub const compile_unit: u64 = 0x11;
    pub const partial_unit: u64 = 0x3c;
    pub const skeleton_unit: u64 = 0x4a;
    pub const subprogram: u64 = 0x2e;
    pub const inlined_subroutine: u64 = 0x1d;
};

pub const Unit = struct {
    offset: u64,
    end: u64,
    die_start: u64,
    version: u16,
    addr_size: u8,
    is64: bool,
    abbrev_offset: u64,
    // From the unit DIE:
    low_pc: u64 = 0,
    stmt_list: ?u64 = null,
    name: []const u8 = "",
    comp_dir: []const u8 = "",
    str_offsets_base: u64 = 8,
    addr_base: u64 = 8,
    rnglists_base: u64 = 12,
};

pub const Abbrev = struct {
    code: u64,
    tag: u64,
    has_children: bool,
    attrs: []const Attr,
};

pub const Attr = struct { name: u64, form: u64, implicit: i64 };

/// One abbreviation table, sorted by code (codes are usually 1..n, found by index).
pub const AbbrevTable = struct {
    abbrevs: []const Abbrev,

    pub fn get(t: AbbrevTable, code: u64) ?*const Abbrev {
        if (code >= 1 and code <= t.abbrevs.len and t.abbrevs[code - 1].code == code) return &t.abbrevs[code - 1];
        var low: usize = 0;
        var high: usize = t.abbrevs.len;
        while (low < high) {
            const middle = low + (high - low) / 2;
            if (t.abbrevs[middle].code < code) low = middle + 1 else high = middle;
        }
        if (low < t.abbrevs.len and t.abbrevs[low].code == code) return &t.abbrevs[low];
        return null;
    }
};

const max_abbrevs: usize = 1 << 20;
const max_attrs: usize = 1 << 10;

/// Parses the table at `offset` of .debug_abbrev into `arena`.
pub fn parseAbbrevTable(arena: std.mem.Allocator, section: []const u8, offset: u64) Error!AbbrevTable {
    var r = try Reader.at(section, offset);
    var list: std.ArrayListUnmanaged(Abbrev) = .empty;
    var sorted = true;
    for (0..max_abbrevs) |_| {
        const code = try r.uleb();
        if (code == 0) break;
        const abbrev_tag = try r.uleb();
        const children = try r.byte();
        var attrs: std.ArrayListUnmanaged(Attr) = .empty;
        for (0..max_attrs + 1) |count| {
            if (count == max_attrs) return error.Corrupt;
            const name = try r.uleb();
            const form = try r.uleb();
            if (name == 0 and form == 0) break;
            const implicit: i64 = if (form == form_implicit_const) try r.sleb() else 0;
            try attrs.append(arena, .{ .name = name, .form = form, .implicit = implicit });
        }
        if (list.items.len > 0 and list.items[list.items.len - 1].code >= code) sorted = false;
        try list.append(arena, .{ .code = code, .tag = abbrev_tag, .has_children = children != 0, .attrs = attrs.items });
    } else return error.Corrupt;
    if (!sorted) std.mem.sort(Abbrev, list.items, {}, struct {
        fn lt(_: void, a: Abbrev, b: Abbrev) bool {
            return a.code < b.code;
        }
    }.lt);
    return .{ .abbrevs = list.items };
}

const form_implicit_const: u64 = 0x21;

/// Reads the unit header at `offset`; null for units without code (type units).
pub fn readUnitHeader(info: []const u8, offset: u64) Error!struct { unit: ?Unit, end: u64 } {
    var r = try Reader.at(info, offset);
    var length: u64 = try r.int(u32);
    var is64 = false;
    if (length == 0xffff_ffff) {
        is64 = true;
        length = try r.int(u64);
    } else if (length >= 0xffff_fff0) return error.Corrupt;
    const end = try rd.add(r.pos, length);
    if (end > info.len) return error.Corrupt;
    var body = Reader{ .bytes = info[0..@intCast(end)], .pos = r.pos };
    const version = try body.int(u16);
    if (version < 2 or version > 5) return error.Corrupt;
    var unit_type: u8 = 1;
    var addr_size: u8 = 0;
    var abbrev_offset: u64 = 0;
    if (version >= 5) {
        unit_type = try body.byte();
        addr_size = try body.byte();
        abbrev_offset = try body.sized(if (is64) 8 else 4);
        switch (unit_type) {
            1, 3 => {}, // compile, partial
            4, 5 => try body.skip(8), // skeleton, split_compile: dwo_id
            else => return .{ .unit = null, .end = end },
        }
    } else {
        abbrev_offset = try body.sized(if (is64) 8 else 4);
        addr_size = try body.byte();
    }
    if (addr_size != 4 and addr_size != 8) return error.Corrupt;
    assert(body.pos <= end);
    return .{ .end = end, .unit = .{
        .offset = offset,
        .end = end,
        .die_start = body.pos,
        .version = version,
        .addr_size = addr_size,
        .is64 = is64,
        .abbrev_offset = abbrev_offset,
    } };
}

/// An attribute value, classified enough for symbolization.
pub const Value = union(enum) {
    none,
    unsigned: u64,
    signed: i64,
    address: u64,
    addrx: u64,
    string: []const u8,
    strp: u64,
    line_strp: u64,
    strx: u64,
    /// An offset into .debug_info (unit-relative references already made absolute).
    ref: u64,
    sec_offset: u64,
    rnglistx: u64,

    pub fn asUnsigned(v: Value) ?u64 {
        return switch (v) {
            .unsigned, .sec_offset => |u| u,
            .signed => |s| if (s >= 0) @intCast(s) else null,
            else => null,
        };
    }
};

/// Reads one attribute value of `form` (or skips it, returning .none when uninteresting).
pub fn readValue(r: *Reader, form: u64, unit: *const Unit, implicit: i64) Error!Value {
    const offset_size: u8 = if (unit.is64) 8 else 4;
    return switch (form) {
        0x01 => .{ .address = try r.sized(unit.addr_size) },
        0x03 => blk: {
            try r.skip(try r.int(u16));
            break :blk .none;
        },
        0x04 => blk: {
            try r.skip(try r.int(u32));
            break :blk .none;
        },
        0x09, 0x18 => blk: {
            try r.skip(try r.uleb());
            break :blk .none;
        },
        0x0a => blk: {
            try r.skip(try r.byte());
            break :blk .none;
        },
        0x0b => .{ .unsigned = try r.int(u8) },
        0x05 => .{ .unsigned = try r.int(u16) },
        0x06 => .{ .unsigned = try r.int(u32) },
        0x07 => .{ .unsigned = try r.int(u64) },
        0x0f => .{ .unsigned = try r.uleb() },
        0x0d => .{ .signed = try r.sleb() },
        0x21 => .{ .signed = implicit },
        0x0c => .{ .unsigned = try r.byte() },
        0x19 => .{ .unsigned = 1 },
        0x08 => .{ .string = try r.cstr() },
        0x0e => .{ .strp = try r.sized(offset_size) },
        0x1f => .{ .line_strp = try r.sized(offset_size) },
        0x1a, 0x1f02 => .{ .strx = try r.uleb() },
        0x25 => .{ .strx = try r.int(u8) },
        0x26 => .{ .strx = try r.int(u16) },
        0x27 => .{ .strx = try r.sized(2) + (@as(u64, try r.byte()) << 16) },
        0x28 => .{ .strx = try r.int(u32) },
        0x1b, 0x1f01 => .{ .addrx = try r.uleb() },
        0x29 => .{ .addrx = try r.int(u8) },
        0x2a => .{ .addrx = try r.int(u16) },
        0x2b => .{ .addrx = try r.sized(2) + (@as(u64, try r.byte()) << 16) },
        0x2c => .{ .addrx = try r.int(u32) },
        0x10 => .{ .ref = try r.sized(if (unit.version <= 2) unit.addr_size else offset_size) },
        0x11 => .{ .ref = try rd.add(unit.offset, try r.int(u8)) },
        0x12 => .{ .ref = try rd.add(unit.offset, try r.int(u16)) },
        0x13 => .{ .ref = try rd.add(unit.offset, try r.int(u32)) },
        0x14 => .{ .ref = try rd.add(unit.offset, try r.int(u64)) },
        0x15 => .{ .ref = try rd.add(unit.offset, try r.uleb()) },
        0x17 => .{ .sec_offset = try r.sized(offset_size) },
        0x22 => .{ .unsigned = try r.uleb() },
        0x23 => .{ .rnglistx = try r.uleb() },
        0x1e => blk: {
            try r.skip(16);
            break :blk .none;
        },
        0x20 => blk: {
            try r.skip(8);
            break :blk .none;
        },
        0x1c => blk: {
            try r.skip(4);
            break :blk .none;
        },
        0x24 => blk: {
            try r.skip(8);
            break :blk .none;
        },
        // strp_sup, GNU_ref_alt, GNU_strp_alt: point into a supplementary (dwz) file we do not
        // open; the value is skipped.
        0x1d, 0x1f20, 0x1f21 => blk: {
            try r.skip(offset_size);
            break :blk .none;
        },
        0x16 => blk: {
            const actual = try r.uleb();
            if (actual == 0x16) return error.Corrupt;
            break :blk readValue(r, actual, unit, implicit);
        },
        else => error.Corrupt,
    };
}

/// The attributes of one DIE that symbolization uses.
pub const Die = struct {
    offset: u64,
    tag: u64,
    has_children: bool,
    name: Value = .none,
    linkage_name: Value = .none,
    low_pc: Value = .none,
    high_pc: Value = .none,
    ranges: Value = .none,
    abstract_origin: Value = .none,
    specification: Value = .none,
    call_file: Value = .none,
    call_line: Value = .none,
    stmt_list: Value = .none,
    comp_dir: Value = .none,
    str_offsets_base: Value = .none,
    addr_base: Value = .none,
    rnglists_base: Value = .none,
};

/// Reads the DIE at `r`; null for the 0 code that ends a sibling list.
pub fn readDie(r: *Reader, unit: *const Unit, table: AbbrevTable) Error!?Die {
    const offset: u64 = r.pos;
    const code = try r.uleb();
    if (code == 0) return null;
    const abbrev = table.get(code) orelse return error.Corrupt;
    var die = Die{ .offset = offset, .tag = abbrev.tag, .has_children = abbrev.has_children };
    for (abbrev.attrs) |attr| {
        const value = try readValue(r, attr.form, unit, attr.implicit);
        switch (attr.name) {
            0x03 => die.name = value,
            0x6e, 0x2007 => die.linkage_name = value,
            0x11 => die.low_pc = value,
            0x12 => die.high_pc = value,
            0x55 => die.ranges = value,
            0x31 => die.abstract_origin = value,
            0x47 => die.specification = value,
            0x58 => die.call_file = value,
            0x59 => die.call_line = value,
            0x10 => die.stmt_list = value,
            0x1b => die.comp_dir = value,
            0x72 => die.str_offsets_base = value,
            0x73, 0x2133 => die.addr_base = value,
            0x74 => die.rnglists_base = value,
            else => {},
        }
    }
    assert(r.pos > offset);
    return die;
}

/// A string attribute's text, or null when it has none or it cannot be read.
pub fn string(s: *const Sections, unit: *const Unit, value: Value) ?[]const u8 {
    return switch (value) {
        .string => |text| text,
        .strp => |offset| rd.stringAt(s.str, offset) catch null,
        .line_strp => |offset| rd.stringAt(s.line_str, offset) catch null,
        .strx => |index| blk: {
            const size: u8 = if (unit.is64) 8 else 4;
            const at = std.math.add(u64, unit.str_offsets_base, std.math.mul(u64, index, size) catch break :blk null) catch break :blk null;
            var r = Reader.at(s.str_offsets, at) catch break :blk null;
            const offset = r.sized(size) catch break :blk null;
            break :blk rd.stringAt(s.str, offset) catch null;
        },
        else => null,
    };
}

/// An address attribute's value (DW_FORM_addr or an index into .debug_addr).
pub fn address(s: *const Sections, unit: *const Unit, value: Value) ?u64 {
    return switch (value) {
        .address => |a| a,
        .addrx => |index| blk: {
            const at = std.math.add(u64, unit.addr_base, std.math.mul(u64, index, unit.addr_size) catch break :blk null) catch break :blk null;
            var r = Reader.at(s.addr, at) catch break :blk null;
            break :blk r.sized(unit.addr_size) catch null;
        },
        else => null,
    };
}

test "dwarf_unit: abbrev table and a DIE" {
    var arena_state = std.heap.ArenaAllocator.init(std.testing.allocator);
    defer arena_state.deinit();
    // code 1: subprogram, no children, name:string, low_pc:addr, high_pc:data4
    const abbrev = [_]u8{ 1, 0x2e, 0, 0x03, 0x08, 0x11, 0x01, 0x12, 0x06, 0, 0, 0 };
    const table = try parseAbbrevTable(arena_state.allocator(), &abbrev, 0);
    try std.testing.expectEqual(@as(usize, 1), table.abbrevs.len);
    const unit = Unit{ .offset = 0, .end = 64, .die_start = 0, .version = 4, .addr_size = 8, .is64 = false, .abbrev_offset = 0 };
    const bytes = [_]u8{ 1, 'f', 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0 };
    var r = Reader.init(&bytes);
    const die = (try readDie(&r, &unit, table)).?;
    try std.testing.expectEqual(tag.subprogram, die.tag);
    try std.testing.expectEqualStrings("f", string(&.{}, &unit, die.name).?);
    try std.testing.expectEqual(@as(?u64, 0x10), address(&.{}, &unit, die.low_pc));
    var bad = Reader.init(&[_]u8{ 7, 0 });
    try std.testing.expectError(error.Corrupt, readDie(&bad, &unit, table));
    try std.testing.expectError(error.Corrupt, parseAbbrevTable(arena_state.allocator(), abbrev[0..5], 0));
}
