//! One module of a capture (an executable or shared library file), opened once per report: its
//! mapped ELF, a separate debug file when the module has no DWARF of its own, function symbols of
//! both, and their DWARF. Failing to open or parse anything leaves a module that answers
//! "unknown" and a one-line note saying why.
const std = @import("std");
const assert = std.debug.assert;
const Elf = @import("elf.zig").Elf;
const Symtab = @import("symtab.zig").Symtab;
const du = @import("dwarf_unit.zig");
const dwarf = @import("dwarf.zig");
const debug_file = @import("debug_file.zig");

pub const Options = struct {
    debug_dirs: []const []const u8,
    /// Debug files registered by build-id (lowercase hex) at run time.
    registered: *const std.StringHashMapUnmanaged([]const u8),
};

pub const Module = struct {
    gpa: std.mem.Allocator,
    path: []const u8,
    main: ?Elf = null,
    debug: ?Elf = null,
    debug_path: ?[]const u8 = null,
    /// The module's build-id (in the mapped file, or the capture's): debug files must match it.
    build_id: ?[]const u8 = null,
    symtab: Symtab = .{},
    dwarf: ?dwarf.Dwarf = null,
    /// Why symbols or lines are missing, for the report's warning ("" when nothing is wrong).
    note: std.ArrayListUnmanaged(u8) = .empty,

    /// `expected_build_id` is the capture's (empty when it recorded none).
    pub fn open(gpa: std.mem.Allocator, path: []const u8, expected_build_id: []const u8, options: Options) error{OutOfMemory}!*Module {
        const m = try gpa.create(Module);
        errdefer gpa.destroy(m);
        m.* = .{ .gpa = gpa, .path = try gpa.dupe(u8, path) };
        errdefer gpa.free(m.path);
        m.main = Elf.open(gpa, path) catch |err| {
            if (err == error.OutOfMemory) return error.OutOfMemory;
            try m.addNote("cannot read {s}: {s}", .{ path, describe(err) });
            return m;
        };
        const main = &m.main.?;
        const build_id = main.buildId() orelse (if (expected_build_id.len > 0) expected_build_id else null);
        m.build_id = build_id;
        if (expected_build_id.len > 0) if (main.buildId()) |actual| if (!std.mem.eql(u8, actual, expected_build_id)) {
            try m.addNote("{s} has changed since the capture (build-id differs)", .{path});
        };
        var own = try m.sections(main);
        if (own.info.len == 0) {
            var buffer: [debug_file.max_path_bytes]u8 = undefined;
            const found = m.registeredFor(build_id, options) orelse
                debug_file.search(&buffer, path, build_id, main.debuglink(), options.debug_dirs, m, tryDebugFile);
            if (found) |debug_path| {
                if (m.debug_path == null) m.debug_path = try gpa.dupe(u8, debug_path);
                if (m.debug) |*debug| own = try m.sections(debug);
            }
        }
        _ = m.symtab.addFrom(gpa, main) catch return error.OutOfMemory;
        if (m.debug) |*debug| _ = m.symtab.addFrom(gpa, debug) catch return error.OutOfMemory;
        m.symtab.sort();
        if (own.info.len > 0) {
            m.dwarf = dwarf.Dwarf.init(gpa, own) catch |err| blk: {
                if (err == error.OutOfMemory) return error.OutOfMemory;
                try m.addNote("cannot read the DWARF of {s}", .{m.debug_path orelse path});
                break :blk null;
            };
        }
        // The capture's build-id lives in the caller's buffer: keep only the mapped file's.
        m.build_id = main.buildId();
        assert(m.main != null);
        return m;
    }

    fn registeredFor(m: *Module, build_id: ?[]const u8, options: Options) ?[]const u8 {
        const id = build_id orelse return null;
        var hex_buffer: [128]u8 = undefined;
        const hex = std.fmt.bufPrint(&hex_buffer, "{x}", .{id}) catch return null;
        const path = options.registered.get(hex) orelse return null;
        return if (tryDebugFile(m, path)) path else null;
    }

    /// Opens `path` as the debug file when it is ELF and has .debug_info.
    fn tryDebugFile(m: *Module, path: []const u8) bool {
        assert(m.debug == null);
        var elf = Elf.open(m.gpa, path) catch return false;
        const section = elf.find(".debug_info");
        const mismatch = if (m.build_id) |want| if (elf.buildId()) |have| !std.mem.eql(u8, want, have) else false else false;
        if (section == null or section.?.sh_type == 8 or mismatch) {
            elf.close(m.gpa);
            return false;
        }
        m.debug = elf;
        m.debug_path = m.gpa.dupe(u8, path) catch null;
        return true;
    }

    fn sections(m: *Module, elf: *Elf) error{OutOfMemory}!du.Sections {
        var s = du.Sections{};
        const fields = .{
            .{ "info", ".debug_info" },         .{ "abbrev", ".debug_abbrev" },
            .{ "line", ".debug_line" },         .{ "str", ".debug_str" },
            .{ "line_str", ".debug_line_str" }, .{ "str_offsets", ".debug_str_offsets" },
            .{ "addr", ".debug_addr" },         .{ "ranges", ".debug_ranges" },
            .{ "rnglists", ".debug_rnglists" }, .{ "aranges", ".debug_aranges" },
        };
        inline for (fields) |field| {
            const bytes = elf.contents(m.gpa, field[1]) catch |err| blk: {
                if (err == error.OutOfMemory) return error.OutOfMemory;
                try m.addNote("cannot read {s} of {s}: {s}", .{ field[1], m.path, describe(err) });
                break :blk null;
            };
            @field(s, field[0]) = bytes orelse &.{};
        }
        // Without abbreviations no DIE can be read.
        if (s.abbrev.len == 0) s.info = &.{};
        return s;
    }

    fn addNote(m: *Module, comptime format: []const u8, args: anytype) error{OutOfMemory}!void {
        if (m.note.items.len > 0) try m.note.appendSlice(m.gpa, "; ");
        try m.note.print(m.gpa, format, args);
    }

    pub fn close(m: *Module) void {
        const gpa = m.gpa;
        if (m.dwarf) |*d| d.deinit();
        m.symtab.deinit(gpa);
        if (m.debug) |*d| d.close(gpa);
        if (m.main) |*e| e.close(gpa);
        if (m.debug_path) |p| gpa.free(p);
        m.note.deinit(gpa);
        gpa.free(m.path);
        gpa.destroy(m);
    }

    pub fn hasSymbols(m: *const Module) bool {
        return m.symtab.symbols.items.len > 0;
    }

    pub fn hasDebugInfo(m: *const Module) bool {
        return if (m.dwarf) |d| d.units.len > 0 else false;
    }

    /// Frames of `address` (an ELF virtual address), innermost first: DWARF where it covers the
    /// address, the symbol table's name where DWARF names nothing; 0 frames when neither knows it.
    pub fn frames(m: *Module, address: u64, out: *[dwarf.max_frames]dwarf.RawFrame) error{OutOfMemory}!usize {
        var count: usize = 0;
        if (m.dwarf) |*d| {
            count = d.frames(address, out) catch |err| switch (err) {
                error.OutOfMemory => return error.OutOfMemory,
                error.Corrupt => 0,
            };
        }
        const symbol = m.symtab.lookup(address);
        if (count == 0) {
            const s = symbol orelse return 0;
            out[0] = .{ .name = s.name, .file = "", .line = 0, .inlined = false };
            return 1;
        }
        // The outermost frame is the out-of-line function: the symbol table names it when DWARF
        // could not (a unit whose scopes failed to parse).
        if (out[count - 1].name == null) if (symbol) |s| {
            out[count - 1].name = s.name;
        };
        assert(count <= dwarf.max_frames);
        return count;
    }
};

fn describe(err: anyerror) []const u8 {
    return switch (err) {
        error.Io => "no such file or it cannot be mapped",
        error.Corrupt => "not a valid ELF file",
        error.Unsupported => "unsupported ELF class or compression",
        else => @errorName(err),
    };
}
