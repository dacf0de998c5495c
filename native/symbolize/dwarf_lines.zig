//! DWARF 2-5 line number programs: one unit's rows (address -> file, line) sorted by address, and
//! its file table as full paths (directory joined, relative ones under the unit's comp_dir).
const std = @import("std");
const assert = std.debug.assert;
const rd = @import("reader.zig");
const du = @import("dwarf_unit.zig");
const Reader = rd.Reader;

pub const end_of_sequence: u32 = std.math.maxInt(u32);
const max_program_ops: usize = 1 << 26;
const max_entries: usize = 1 << 20;

pub const Row = struct {
    address: u64,
    line: u32,
    /// DWARF file number, or end_of_sequence for the row that ends a sequence.
    file: u32,
};

pub const LineTable = struct {
    rows: []Row,
    /// Indexed by DWARF file number (DWARF 5 numbers from 0, earlier versions from 1: index 0
    /// then holds the unit's name).
    files: []const []const u8,

    /// The row covering `address`, or null when no sequence covers it.
    pub fn lookup(t: LineTable, address: u64) ?Row {
        var low: usize = 0;
        var high: usize = t.rows.len;
        while (low < high) {
            const middle = low + (high - low) / 2;
            if (t.rows[middle].address <= address) low = middle + 1 else high = middle;
        }
        if (low == 0) return null;
        const row = t.rows[low - 1];
        assert(row.address <= address);
        return if (row.file == end_of_sequence) null else row;
    }

    pub fn fileName(t: LineTable, file: u64) []const u8 {
        return if (file < t.files.len) t.files[@intCast(file)] else "";
    }
};

/// Runs the program at `offset` of .debug_line for `unit`; everything lives in `arena`.
pub fn parse(arena: std.mem.Allocator, s: *const du.Sections, unit: *const du.Unit, offset: u64) du.Error!LineTable {
    var outer = try Reader.at(s.line, offset);
    var length: u64 = try outer.int(u32);
    var is64 = false;
    if (length == 0xffff_ffff) {
        is64 = true;
        length = try outer.int(u64);
    }
    var r = try outer.sub(length);
    const version = try r.int(u16);
    if (version < 2 or version > 5) return error.Corrupt;
    var addr_size = unit.addr_size;
    if (version >= 5) {
        addr_size = try r.byte();
        try r.skip(1); // segment selector size
    }
    const header_length = try r.sized(if (is64) 8 else 4);
    var program = r;
    try program.skip(header_length);
    const min_inst_length = try r.byte();
    if (version >= 4) try r.skip(1); // maximum_operations_per_instruction: VLIW only
    const default_is_stmt = try r.byte();
    _ = default_is_stmt;
    const line_base: i8 = @bitCast(try r.byte());
    const line_range = try r.byte();
    const opcode_base = try r.byte();
    if (line_range == 0 or opcode_base == 0) return error.Corrupt;
    const opcode_lengths = try r.take(opcode_base - 1);

    // A unit for form reading in the header: the line table's own offset size.
    var header_unit = unit.*;
    header_unit.is64 = is64;
    header_unit.addr_size = addr_size;
    const comp_dir = unit.comp_dir;
    var dirs: std.ArrayListUnmanaged([]const u8) = .empty;
    var files: std.ArrayListUnmanaged([]const u8) = .empty;
    if (version >= 5) {
        try readEntries(arena, s, &header_unit, &r, &dirs, null, comp_dir);
        try readEntries(arena, s, &header_unit, &r, &files, dirs.items, comp_dir);
    } else {
        try dirs.append(arena, comp_dir);
        for (0..max_entries) |_| {
            const dir = try r.cstr();
            if (dir.len == 0) break;
            try dirs.append(arena, try join(arena, comp_dir, dir));
        } else return error.Corrupt;
        try files.append(arena, try join(arena, comp_dir, unit.name));
        for (0..max_entries) |_| {
            const name = try r.cstr();
            if (name.len == 0) break;
            const dir = try r.uleb();
            _ = try r.uleb();
            _ = try r.uleb();
            try files.append(arena, try join(arena, if (dir < dirs.items.len) dirs.items[@intCast(dir)] else comp_dir, name));
        } else return error.Corrupt;
    }
    const rows = try run(arena, &program, addr_size, min_inst_length, line_base, line_range, opcode_base, opcode_lengths);
    return .{ .rows = rows, .files = files.items };
}

/// DWARF 5 directory or file entries (entry formats, then entries).
fn readEntries(arena: std.mem.Allocator, s: *const du.Sections, unit: *const du.Unit, r: *Reader, out: *std.ArrayListUnmanaged([]const u8), dirs: ?[]const []const u8, comp_dir: []const u8) du.Error!void {
    const format_count = try r.byte();
    var formats: [16][2]u64 = undefined;
    if (format_count > formats.len) return error.Corrupt;
    for (formats[0..format_count]) |*format| format.* = .{ try r.uleb(), try r.uleb() };
    const count = try r.uleb();
    if (count > max_entries) return error.Corrupt;
    for (0..@intCast(count)) |_| {
        var path: []const u8 = "";
        var dir_index: u64 = 0;
        for (formats[0..format_count]) |format| {
            const value = try du.readValue(r, format[1], unit, 0);
            switch (format[0]) {
                1 => path = du.string(s, unit, value) orelse "",
                2 => dir_index = value.asUnsigned() orelse 0,
                else => {},
            }
        }
        if (dirs) |d| {
            const dir = if (dir_index < d.len) d[@intCast(dir_index)] else comp_dir;
            try out.append(arena, try join(arena, dir, path));
        } else {
            try out.append(arena, try join(arena, comp_dir, path));
        }
    }
}

fn join(arena: std.mem.Allocator, dir: []const u8, name: []const u8) error{OutOfMemory}![]const u8 {
    if (name.len > 0 and name[0] == '/') return name;
    if (dir.len == 0) return name;
    if (name.len == 0) return dir;
    const trimmed = std.mem.trimRight(u8, dir, "/");
    const relative = if (std.mem.startsWith(u8, name, "./")) name[2..] else name;
    return std.fmt.allocPrint(arena, "{s}/{s}", .{ trimmed, relative });
}

fn run(arena: std.mem.Allocator, r: *Reader, addr_size: u8, min_inst_length: u8, line_base: i8, line_range: u8, opcode_base: u8, opcode_lengths: []const u8) du.Error![]Row {
    var rows: std.ArrayListUnmanaged(Row) = .empty;
    var address: u64 = 0;
    var line: i64 = 1;
    var file: u64 = 1;
    var sequence_start: usize = 0;
    for (0..max_program_ops) |_| {
        if (r.done()) break;
        const opcode = try r.byte();
        var emit = false;
        if (opcode >= opcode_base) {
            const adjusted = opcode - opcode_base;
            address +%= @as(u64, adjusted / line_range) * min_inst_length;
            line +%= @as(i64, line_base) + @as(i64, adjusted % line_range);
            emit = true;
        } else switch (opcode) {
            0 => {
                const length = try r.uleb();
                var ext = try r.sub(length);
                if (length == 0) continue;
                switch (try ext.byte()) {
                    1 => {
                        try rows.append(arena, .{ .address = address, .line = 0, .file = end_of_sequence });
                        // Sequences at 0 or at tombstones are functions the linker discarded.
                        const start = rows.items[sequence_start].address;
                        if (start == 0 or start >= std.math.maxInt(u64) - 1 or (addr_size == 4 and start >= std.math.maxInt(u32) - 1)) {
                            rows.shrinkRetainingCapacity(sequence_start);
                        }
                        sequence_start = rows.items.len;
                        address = 0;
                        line = 1;
                        file = 1;
                    },
                    2 => address = try ext.sized(addr_size),
                    else => {},
                }
            },
            1 => emit = true,
            2 => address +%= (try r.uleb()) *% min_inst_length,
            3 => line +%= try r.sleb(),
            4 => file = try r.uleb(),
            8 => address +%= @as(u64, (255 - opcode_base) / line_range) * min_inst_length,
            9 => address +%= try r.int(u16),
            else => {
                // Standard opcodes we do not use, including unknown ones: skip their operands.
                for (0..opcode_lengths[opcode - 1]) |_| _ = try r.uleb();
            },
        }
        if (emit) {
            const clamped: u32 = @intCast(std.math.clamp(line, 0, std.math.maxInt(u32) - 1));
            const file_number: u32 = @intCast(@min(file, std.math.maxInt(u32) - 1));
            try rows.append(arena, .{ .address = address, .line = clamped, .file = file_number });
        }
    } else return error.Corrupt;
    // A sequence without end is dropped: its extent is unknown.
    rows.shrinkRetainingCapacity(sequence_start);
    std.mem.sort(Row, rows.items, {}, struct {
        fn lt(_: void, a: Row, b: Row) bool {
            if (a.address != b.address) return a.address < b.address;
            return a.file == end_of_sequence and b.file != end_of_sequence;
        }
    }.lt);
    return rows.items;
}

test "dwarf_lines: lookup honours sequence ends" {
    var rows = [_]Row{
        .{ .address = 0x10, .line = 3, .file = 1 },
        .{ .address = 0x14, .line = 4, .file = 1 },
        .{ .address = 0x20, .line = 0, .file = end_of_sequence },
        .{ .address = 0x30, .line = 9, .file = 2 },
        .{ .address = 0x38, .line = 0, .file = end_of_sequence },
    };
    const t = LineTable{ .rows = &rows, .files = &.{ "a.c", "a.c", "b.h" } };
    try std.testing.expectEqual(@as(u32, 4), t.lookup(0x1f).?.line);
    try std.testing.expect(t.lookup(0x20) == null);
    try std.testing.expect(t.lookup(0x8) == null);
    try std.testing.expectEqualStrings("b.h", t.fileName(t.lookup(0x30).?.file));
    try std.testing.expectEqualStrings("", t.fileName(7));
}

test "dwarf_lines: join" {
    var arena_state = std.heap.ArenaAllocator.init(std.testing.allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    try std.testing.expectEqualStrings("/src/x/a.c", try join(arena, "/src/x/", "./a.c"));
    try std.testing.expectEqualStrings("/abs.c", try join(arena, "/src", "/abs.c"));
}
