//! Module-level tests against files of this machine: libc with its libc6-dbg debug file found
//! by build-id, and corrupt copies of it that must yield notes, never crashes.
const std = @import("std");
const Symbolizer = @import("symbolizer.zig").Symbolizer;

const libc_path = "/lib/x86_64-linux-gnu/libc.so.6";

fn dynamicSymbol(s: *Symbolizer, module: u32, name: []const u8) ?u64 {
    for (s.modules.items[module].symtab.symbols.items) |symbol| {
        if (std.mem.eql(u8, symbol.name, name)) return symbol.address;
    }
    return null;
}

test "module: libc gets names, files and lines from its libc6-dbg file" {
    std.fs.cwd().access(libc_path, .{}) catch return error.SkipZigTest;
    const s = try Symbolizer.create(std.testing.allocator, &.{});
    defer s.destroy();
    const index = try s.openModule(libc_path, "");
    const m = s.modules.items[index];
    try std.testing.expect(m.hasSymbols());
    if (!m.hasDebugInfo()) return error.SkipZigTest; // libc6-dbg not installed
    try std.testing.expect(std.mem.startsWith(u8, m.debug_path.?, "/usr/lib/debug/.build-id/"));
    const address = dynamicSymbol(s, index, "malloc") orelse return error.TestUnexpectedResult;
    const frames = try s.symbolize(index, address + 8);
    const last = frames[frames.len - 1];
    try std.testing.expect(std.mem.endsWith(u8, s.strings.list.items[last.function], "libc_malloc"));
    try std.testing.expect(std.mem.endsWith(u8, s.strings.list.items[frames[0].file], "malloc.c"));
    try std.testing.expect(frames[0].line > 0);
    // The same address again comes from the cache, identical.
    const again = try s.symbolize(index, address + 8);
    try std.testing.expectEqual(frames.len, again.len);
}

test "module: corrupt and missing files give unknown frames and a note" {
    const gpa = std.testing.allocator;
    const original = std.fs.cwd().readFileAlloc(gpa, libc_path, 64 << 20) catch return error.SkipZigTest;
    defer gpa.free(original);
    var tmp = std.testing.tmpDir(.{});
    defer tmp.cleanup();
    var prng = std.Random.DefaultPrng.init(0x5eed);
    const s = try Symbolizer.create(gpa, &.{});
    defer s.destroy();
    var path_buffer: [std.fs.max_path_bytes]u8 = undefined;
    const dir_path = try tmp.dir.realpath(".", &path_buffer);
    // Truncations and random byte damage of the headers and tables.
    for (0..24) |round| {
        const copy = try gpa.dupe(u8, original);
        defer gpa.free(copy);
        var length = copy.len;
        if (round % 3 == 0) length = prng.random().uintLessThan(usize, copy.len);
        if (round % 3 != 0) {
            for (0..64) |_| {
                const at = if (prng.random().boolean()) prng.random().uintLessThan(usize, 4096) else copy.len - 1 - prng.random().uintLessThan(usize, 64 * 1024);
                copy[at] = prng.random().int(u8);
            }
        }
        var name_buffer: [64]u8 = undefined;
        const name = try std.fmt.bufPrint(&name_buffer, "libc-{d}.so", .{round});
        try tmp.dir.writeFile(.{ .sub_path = name, .data = copy[0..@max(length, 1)] });
        var full_buffer: [std.fs.max_path_bytes]u8 = undefined;
        const full = try std.fmt.bufPrint(&full_buffer, "{s}/{s}", .{ dir_path, name });
        const index = try s.openModule(full, "");
        for (0..200) |step| _ = try s.symbolize(index, 0x28000 + step * 0x731);
    }
    const missing = try s.openModule("/nonexistent/libnothing.so", "");
    const frames = try s.symbolize(missing, 0x1234);
    try std.testing.expectEqual(@as(usize, 1), frames.len);
    try std.testing.expectEqual(@as(u32, 0), frames[0].function);
    try std.testing.expect(s.modules.items[missing].note.items.len > 0);
}

test "module: damaged DWARF sections of a real binary never crash" {
    const gpa = std.testing.allocator;
    const self_path = try std.fs.selfExePathAlloc(gpa);
    defer gpa.free(self_path);
    const original = try std.fs.cwd().readFileAlloc(gpa, self_path, 256 << 20);
    defer gpa.free(original);
    var elf = @import("elf.zig").Elf.open(gpa, self_path) catch return error.SkipZigTest;
    defer elf.close(gpa);
    const targets = [_][]const u8{ ".debug_info", ".debug_abbrev", ".debug_line", ".debug_rnglists", ".debug_str_offsets", ".debug_addr", ".debug_ranges" };
    var tmp = std.testing.tmpDir(.{});
    defer tmp.cleanup();
    var dir_buffer: [std.fs.max_path_bytes]u8 = undefined;
    const dir_path = try tmp.dir.realpath(".", &dir_buffer);
    var prng = std.Random.DefaultPrng.init(0xd1ce);
    const random = prng.random();
    const s = try Symbolizer.create(gpa, &.{});
    defer s.destroy();
    for (0..6) |round| {
        const copy = try gpa.dupe(u8, original);
        defer gpa.free(copy);
        for (targets) |name| {
            const section = elf.find(name) orelse continue;
            if (section.size == 0 or section.sh_type == 8) continue;
            // A few bytes per section, more in later rounds: early rounds keep most units readable.
            for (0..(round + 1) * 8) |_| {
                const at = section.offset + random.uintLessThan(u64, section.size);
                copy[@intCast(at)] = random.int(u8);
            }
        }
        var name_buffer: [64]u8 = undefined;
        const name = try std.fmt.bufPrint(&name_buffer, "damaged-{d}", .{round});
        try tmp.dir.writeFile(.{ .sub_path = name, .data = copy });
        var full_buffer: [std.fs.max_path_bytes]u8 = undefined;
        const full = try std.fmt.bufPrint(&full_buffer, "{s}/{s}", .{ dir_path, name });
        const index = try s.openModule(full, "");
        const text = elf.find(".text") orelse return error.SkipZigTest;
        for (0..300) |step| _ = try s.symbolize(index, text.addr + (step * 7919) % text.size);
    }
}
