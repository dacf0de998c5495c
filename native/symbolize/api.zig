//! The symbolizer's C ABI, exported by libmemrayd_report.so (native/report/lib.zig) and called
//! from lib/ffi.ts. Results are sizes or counts (>= 0) or the negative codes of
//! native/report/lib.zig. A symbolizer is an opaque pointer owned by the caller; calls on one
//! symbolizer must not overlap (Deno calls them from one thread).
const std = @import("std");
const assert = std.debug.assert;
const Symbolizer = @import("symbolizer.zig").Symbolizer;

// The codes of native/report/lib.zig (error_*), repeated here because this is its own module.
const error_output_full: i64 = -1;
const error_corrupt: i64 = -2;
const error_out_of_memory: i64 = -5;
const error_io: i64 = -7;

const gpa = std.heap.c_allocator;
const max_debug_dirs: usize = 256;

pub const info_has_symbols: u32 = 1;
pub const info_has_debug_info: u32 = 2;

/// `dirs`: debug directories separated by NUL bytes. Null when out of memory.
pub fn create(dirs: ?[*]const u8, dirs_len: usize) callconv(.c) ?*Symbolizer {
    const text = bytes(dirs, dirs_len) orelse return null;
    var list: [max_debug_dirs][]const u8 = undefined;
    var count: usize = 0;
    var it = std.mem.splitScalar(u8, text, 0);
    while (it.next()) |dir| {
        if (dir.len == 0) continue;
        if (count == max_debug_dirs) break;
        list[count] = dir;
        count += 1;
    }
    assert(count <= max_debug_dirs);
    return Symbolizer.create(gpa, list[0..count]) catch null;
}

pub fn destroy(s: ?*Symbolizer) callconv(.c) void {
    if (s) |symbolizer| symbolizer.destroy();
}

/// Registers `path` as the debug file of modules with this build-id; 0 or a negative code.
pub fn addDebugFile(s: ?*Symbolizer, id: ?[*]const u8, id_len: usize, path: ?[*]const u8, path_len: usize) callconv(.c) i64 {
    const symbolizer = s orelse return error_corrupt;
    const build_id = bytes(id, id_len) orelse return error_corrupt;
    const file = bytes(path, path_len) orelse return error_corrupt;
    if (build_id.len == 0 or build_id.len > 64 or file.len == 0) return error_corrupt;
    symbolizer.addDebugFile(build_id, file) catch return error_out_of_memory;
    return 0;
}

/// Opens (once) the module file at `path`; returns its index. A file that cannot be read still
/// gets an index (its frames are unknown; moduleInfo says why).
pub fn openModule(s: ?*Symbolizer, path: ?[*]const u8, path_len: usize, id: ?[*]const u8, id_len: usize) callconv(.c) i64 {
    const symbolizer = s orelse return error_corrupt;
    const file = bytes(path, path_len) orelse return error_corrupt;
    const build_id = bytes(id, id_len) orelse return error_corrupt;
    if (file.len == 0) return error_io;
    const index = symbolizer.openModule(file, build_id) catch |err| return switch (err) {
        error.OutOfMemory => error_out_of_memory,
        error.TooMany => error_corrupt,
    };
    return index;
}

/// Writes u32 flags (info_*), u32 debug-file path length, u32 note length, then both texts.
/// Returns the length needed; nothing is written when it exceeds `out_len`.
pub fn moduleInfo(s: ?*Symbolizer, module: u32, out: ?[*]u8, out_len: usize) callconv(.c) i64 {
    const symbolizer = s orelse return error_corrupt;
    if (module >= symbolizer.modules.items.len) return error_corrupt;
    const m = symbolizer.modules.items[module];
    const debug_path = m.debug_path orelse "";
    const note = m.note.items;
    const needed = 12 + debug_path.len + note.len;
    const buffer = (out orelse return @intCast(needed))[0..out_len];
    if (needed > out_len) return @intCast(needed);
    const flags = (if (m.hasSymbols()) info_has_symbols else 0) | (if (m.hasDebugInfo()) info_has_debug_info else 0);
    std.mem.writeInt(u32, buffer[0..4], flags, .little);
    std.mem.writeInt(u32, buffer[4..8], @intCast(debug_path.len), .little);
    std.mem.writeInt(u32, buffer[8..12], @intCast(note.len), .little);
    @memcpy(buffer[12..][0..debug_path.len], debug_path);
    @memcpy(buffer[12 + debug_path.len ..][0..note.len], note);
    assert(needed >= 12);
    return @intCast(needed);
}

/// Symbolizes `addresses` (ELF virtual addresses of module `module`) into `out`: per address a
/// frame count then count x (function id, file id, line, flags), innermost frame first. Stops
/// before an address whose frames do not fit; stores the words used in `used[0]` and returns
/// how many addresses were done.
pub fn symbolize(s: ?*Symbolizer, module: u32, addresses: ?[*]const u64, count: usize, out: ?[*]u32, out_len: usize, used: ?[*]u64) callconv(.c) i64 {
    const symbolizer = s orelse return error_corrupt;
    if (module >= symbolizer.modules.items.len) return error_corrupt;
    const input = (addresses orelse return if (count == 0) 0 else error_corrupt)[0..count];
    const words = (out orelse return error_output_full)[0..out_len];
    const used_out = used orelse return error_corrupt;
    var position: usize = 0;
    var done: usize = 0;
    for (input) |address| {
        const frames = symbolizer.symbolize(module, address) catch return error_out_of_memory;
        const need = 1 + frames.len * 4;
        if (position + need > words.len) break;
        words[position] = @intCast(frames.len);
        for (frames, 0..) |frame, index| {
            const at = position + 1 + index * 4;
            words[at..][0..4].* = .{ frame.function, frame.file, frame.line, frame.flags };
        }
        position += need;
        done += 1;
    }
    assert(position <= words.len);
    used_out[0] = position;
    if (done == 0 and count > 0) return error_output_full;
    return @intCast(done);
}

/// How many strings have ids (ids are 0 .. count-1, 0 being "").
pub fn stringCount(s: ?*Symbolizer) callconv(.c) i64 {
    const symbolizer = s orelse return error_corrupt;
    return symbolizer.strings.count();
}

/// Writes strings `first`, `first+1`, ... as u32 length then bytes while they fit; returns how
/// many were written (error_output_full when not even the first fits).
pub fn strings(s: ?*Symbolizer, first: u32, out: ?[*]u8, out_len: usize) callconv(.c) i64 {
    const symbolizer = s orelse return error_corrupt;
    const list = symbolizer.strings.list.items;
    if (first > list.len) return error_corrupt;
    const buffer = (out orelse return error_output_full)[0..out_len];
    var position: usize = 0;
    var written: usize = 0;
    for (list[first..]) |text| {
        if (position + 4 + text.len > buffer.len) break;
        std.mem.writeInt(u32, buffer[position..][0..4], @intCast(text.len), .little);
        @memcpy(buffer[position + 4 ..][0..text.len], text);
        position += 4 + text.len;
        written += 1;
    }
    assert(position <= buffer.len);
    if (written == 0 and first < list.len) return error_output_full;
    return @intCast(written);
}

fn bytes(ptr: ?[*]const u8, len: usize) ?[]const u8 {
    if (ptr) |p| return p[0..len];
    return if (len == 0) &.{} else null;
}

/// Called from native/report/lib.zig's comptime block.
pub fn exportSymbols() void {
    @export(&create, .{ .name = "memrayd_sym_create" });
    @export(&destroy, .{ .name = "memrayd_sym_destroy" });
    @export(&addDebugFile, .{ .name = "memrayd_sym_add_debug_file" });
    @export(&openModule, .{ .name = "memrayd_sym_open_module" });
    @export(&moduleInfo, .{ .name = "memrayd_sym_module_info" });
    @export(&symbolize, .{ .name = "memrayd_sym_symbolize" });
    @export(&stringCount, .{ .name = "memrayd_sym_string_count" });
    @export(&strings, .{ .name = "memrayd_sym_strings" });
}
