//! Test-only shared library around native/python/walker.zig, loaded by e2e_walker.py through
//! ctypes.PyDLL (GIL held during calls). Exports a C ABI that serializes what the walker sees.

const std = @import("std");
const assert = std.debug.assert;
const walker = @import("walker");

const frames_max = 256;

export fn walker_test_init(python_hexversion: u64) c_int {
    return @intFromBool(walker.init(python_hexversion));
}

/// Captures the calling thread's stack and writes, little-endian:
/// u32 frame_count, then per frame (innermost first): u64 code, i32 instr_offset_bytes,
/// u8 is_entry, u64 identity, u8 read_ok, and when read_ok: u32 first_line and the byte strings
/// name, qualname, filename, linetable (each u32 length + bytes).
/// Returns the bytes written, or -1 when `out` is too small.
export fn walker_test_capture(out: [*]u8, out_len: usize) isize {
    var frames: [frames_max]walker.Frame = undefined;
    const count = walker.captureCurrentThread(&frames);
    assert(count <= frames_max);
    var writer = std.Io.Writer.fixed(out[0..out_len]);
    serialize(&writer, frames[0..count]) catch return -1;
    return @intCast(writer.end);
}

fn serialize(writer: *std.Io.Writer, frames: []const walker.Frame) !void {
    var scratch: [8192]u8 = undefined;
    try writer.writeInt(u32, @intCast(frames.len), .little);
    for (frames) |frame| {
        try writer.writeInt(u64, frame.code, .little);
        try writer.writeInt(i32, frame.instr_offset_bytes, .little);
        try writer.writeByte(@intFromBool(frame.is_entry));
        try writer.writeInt(u64, walker.codeIdentity(frame.code), .little);
        const info = walker.readCode(frame.code, &scratch) orelse {
            try writer.writeByte(0);
            continue;
        };
        try writer.writeByte(1);
        try writer.writeInt(u32, info.first_line, .little);
        for ([_][]const u8{ info.name, info.qualname, info.filename, info.linetable }) |field| {
            try writer.writeInt(u32, @intCast(field.len), .little);
            try writer.writeAll(field);
        }
    }
}

/// readCode with a caller-sized scratch buffer: returns 1 when it succeeded, 0 when not.
export fn walker_test_read_code(code: usize, scratch_len: usize) c_int {
    var scratch: [8192]u8 = undefined;
    assert(scratch_len <= scratch.len);
    return @intFromBool(walker.readCode(code, scratch[0..scratch_len]) != null);
}

export fn walker_test_identity(code: usize) u64 {
    return walker.codeIdentity(code);
}

/// Captures into a buffer of `capacity` frames and returns the count (truncation test).
export fn walker_test_capture_count(capacity: usize) usize {
    var frames: [frames_max]walker.Frame = undefined;
    assert(capacity <= frames_max);
    return walker.captureCurrentThread(frames[0..capacity]);
}

/// Runs the walker on a new C thread that has no Python thread state; returns its frame count
/// (expected 0), or -1 when the thread could not be started.
export fn walker_test_capture_in_c_thread() c_int {
    var count: usize = std.math.maxInt(usize);
    const thread = std.Thread.spawn(.{}, captureInto, .{&count}) catch return -1;
    thread.join();
    return @intCast(count);
}

fn captureInto(count: *usize) void {
    var frames: [frames_max]walker.Frame = undefined;
    count.* = walker.captureCurrentThread(&frames);
}

/// Average nanoseconds per full-stack capture over `iterations` captures.
export fn walker_test_bench_ns(iterations: u64) f64 {
    assert(iterations > 0);
    var frames: [frames_max]walker.Frame = undefined;
    var checksum: usize = 0;
    const start = std.time.nanoTimestamp();
    var index: u64 = 0;
    while (index < iterations) : (index += 1) {
        checksum +%= walker.captureCurrentThread(&frames);
        std.mem.doNotOptimizeAway(&frames);
    }
    const elapsed_ns = std.time.nanoTimestamp() - start;
    std.mem.doNotOptimizeAway(checksum);
    return @as(f64, @floatFromInt(elapsed_ns)) / @as(f64, @floatFromInt(iterations));
}
