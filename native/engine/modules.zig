//! MODULES records: the loaded objects (path, load base, GNU build-id, PT_LOAD segments) via
//! dl_iterate_phdr, written at start and whenever glibc's load/unload counters change (checked by
//! the sampler every tick and at stop). dlopen is deliberately not interposed: an interposed
//! dlopen becomes the "caller" and breaks the caller's RUNPATH search (reference §4.1).
const std = @import("std");
const libc = @import("libc.zig");
const raw = @import("raw.zig");
const encode = @import("encode.zig");
const session = @import("session.zig");
const capture_file = @import("capture_file.zig");
const native_stack = @import("native_stack.zig");

const type_modules: u8 = 0x41;
const modules_max = 1024;
const segments_max = 16;
const build_id_max_bytes = 64;
const path_max_bytes = 1024;
const nt_gnu_build_id: u32 = 3;

/// Only the sampler thread, or the thread in start/stop while the sampler is not running, uses
/// this scratch area: one writer at a time.
var scratch: [capture_file.chunk_payload_size_bytes]u8 = undefined;
var generation: u64 = 0;
var last_adds: u64 = 0;
var last_subs: u64 = 0;

const Walk = struct {
    cursor: encode.Cursor,
    count: u32 = 0,
    truncated: bool = false,
    first: bool = true,
};

pub fn reset() void {
    generation = 0;
    last_adds = 0;
    last_subs = 0;
    std.debug.assert(scratch.len == capture_file.chunk_payload_size_bytes);
}

/// Writes a MODULES record if the set of loaded objects changed (or `force`).
pub fn check(force: bool) void {
    var counters = [2]u64{ 0, 0 };
    _ = libc.dl_iterate_phdr(readCounters, &counters);
    if (!force and counters[0] == last_adds and counters[1] == last_subs) return;
    last_adds = counters[0];
    last_subs = counters[1];
    generation += 1;

    var walk = Walk{ .cursor = .{ .buffer = &scratch } };
    _ = libc.dl_iterate_phdr(describe, &walk);
    std.debug.assert(walk.count <= modules_max);

    const writer = &session.sampler_writer;
    const size: u32 = @intCast(1 + 4 * encode.max_varint_bytes + walk.cursor.position);
    var cursor = writer.reserve(size, session.seqFloor()) orelse return;
    const seq = session.nextSeq();
    cursor.putByte(type_modules);
    cursor.putVarint(writer.seqDelta(seq));
    cursor.putVarint(generation);
    cursor.putVarint(walk.count);
    @memcpy(cursor.buffer[cursor.position..][0..walk.cursor.position], scratch[0..walk.cursor.position]);
    cursor.position += walk.cursor.position;
    writer.commit(cursor);
}

fn readCounters(info: *const libc.DlPhdrInfo, size: usize, data: ?*anyopaque) callconv(.c) c_int {
    const counters: *[2]u64 = @ptrCast(@alignCast(data.?));
    if (size < @offsetOf(libc.DlPhdrInfo, "subs") + 8) return 1;
    counters.* = .{ info.adds, info.subs };
    return 1; // The counters are the same in every entry: one is enough.
}

fn describe(info: *const libc.DlPhdrInfo, size: usize, data: ?*anyopaque) callconv(.c) c_int {
    const walk: *Walk = @ptrCast(@alignCast(data.?));
    std.debug.assert(size >= @offsetOf(libc.DlPhdrInfo, "adds"));
    const first = walk.first;
    walk.first = false;
    var path_storage: [path_max_bytes]u8 = undefined;
    var path: []const u8 = if (info.name) |name| std.mem.span(name) else "";
    if (std.mem.startsWith(u8, path, "linux-vdso") or std.mem.startsWith(u8, path, "linux-gate")) return 0;
    if (path.len == 0) {
        if (!first) return 0; // Unnamed objects other than the program cannot be symbolized.
        path = path_storage[0..raw.readlink("/proc/self/exe", &path_storage)];
    }
    path = path[0..@min(path.len, path_max_bytes)];
    const build_id = buildId(info);
    var segment_count: u32 = 0;
    for (info.phdr[0..info.phnum]) |phdr| {
        if (phdr.p_type == libc.PT_LOAD) segment_count += 1;
    }
    segment_count = @min(segment_count, segments_max);
    const needed = encode.bytesSizeMax(path.len) + encode.bytesSizeMax(build_id.len) +
        (2 + 2 * segments_max) * encode.max_varint_bytes;
    if (walk.count == modules_max or walk.cursor.position + needed > walk.cursor.buffer.len - 64) {
        walk.truncated = true; // Documented limit: the rest of the objects are not described.
        return 1;
    }
    var cursor = &walk.cursor;
    cursor.putBytes(path);
    cursor.putVarint(info.addr);
    cursor.putBytes(build_id);
    cursor.putVarint(segment_count);
    var written: u32 = 0;
    for (info.phdr[0..info.phnum]) |phdr| {
        if (phdr.p_type != libc.PT_LOAD or written == segment_count) continue;
        cursor.putVarint(phdr.p_vaddr);
        cursor.putVarint(phdr.p_memsz);
        written += 1;
    }
    walk.count += 1;
    return 0;
}

fn buildId(info: *const libc.DlPhdrInfo) []const u8 {
    for (info.phdr[0..info.phnum]) |phdr| {
        if (phdr.p_type != libc.PT_NOTE) continue;
        const notes: [*]const u8 = @ptrFromInt(info.addr + phdr.p_vaddr);
        var offset: usize = 0;
        var guard: u32 = 0;
        while (offset + 12 <= phdr.p_memsz and guard < 64) : (guard += 1) {
            const name_size = std.mem.readInt(u32, notes[offset..][0..4], .little);
            const desc_size = std.mem.readInt(u32, notes[offset + 4 ..][0..4], .little);
            const note_type = std.mem.readInt(u32, notes[offset + 8 ..][0..4], .little);
            const name_start = offset + 12;
            const desc_start = name_start + std.mem.alignForward(usize, name_size, 4);
            if (note_type == nt_gnu_build_id and name_size == 4 and
                std.mem.eql(u8, notes[name_start..][0..4], "GNU\x00") and desc_size <= build_id_max_bytes)
            {
                return notes[desc_start..][0..desc_size];
            }
            offset = desc_start + std.mem.alignForward(usize, desc_size, 4);
        }
    }
    return "";
}

/// Finds this library's own address range, for skipping the engine's frames in native stacks.
pub fn locateSelf() void {
    var info: libc.DlInfo = undefined;
    if (libc.dladdr(@ptrCast(&locateSelf), &info) == 0) return;
    var range = [3]usize{ @intFromPtr(info.fbase), std.math.maxInt(usize), 0 };
    _ = libc.dl_iterate_phdr(findSelf, &range);
    native_stack.own_start = range[1];
    native_stack.own_end = range[2];
    std.debug.assert(native_stack.own_end > native_stack.own_start);
}

fn findSelf(info: *const libc.DlPhdrInfo, size: usize, data: ?*anyopaque) callconv(.c) c_int {
    const range: *[3]usize = @ptrCast(@alignCast(data.?));
    std.debug.assert(size >= @offsetOf(libc.DlPhdrInfo, "adds"));
    if (info.addr != range[0]) return 0;
    for (info.phdr[0..info.phnum]) |phdr| {
        if (phdr.p_type != libc.PT_LOAD) continue;
        range[1] = @min(range[1], info.addr + phdr.p_vaddr);
        range[2] = @max(range[2], info.addr + phdr.p_vaddr + phdr.p_memsz);
    }
    return 1;
}
