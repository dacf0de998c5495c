//! libmemrayd_report.so: native code the CLI runs at report time through Deno FFI (lib/ffi.ts).
//! It is never preloaded and exports no allocator symbols. Every function takes pointers and
//! lengths and returns a size (>= 0) or a negative error code; none keeps state between calls,
//! so calls from several threads at once are safe.
const std = @import("std");
const assert = std.debug.assert;
const frame = @import("lz4_frame.zig");
const block = @import("lz4_block.zig");
const capture_pack = @import("capture_pack.zig");
const fold_result = @import("fold_result.zig");
const file_decompress = @import("file_decompress.zig");
const memray_fold = @import("memray_fold.zig");

/// Bumped whenever a signature or an error code changes; lib/ffi.ts refuses other versions.
pub const abi_version: u32 = 9;

/// Error codes (negative results). Keep in step with lib/ffi.ts.
pub const error_output_full: i64 = -1;
pub const error_corrupt: i64 = -2;
pub const error_unsupported: i64 = -3;
pub const error_size_unknown: i64 = -4;
pub const error_out_of_memory: i64 = -5;
/// The capture file ends inside a chunk's records: the caller packs it by decoding records.
pub const error_needs_decoding: i64 = -6;
/// Opening, mapping or writing a file failed.
pub const error_io: i64 = -7;
/// The file does not start with an LZ4 frame (memrayd_lz4_file_content_size).
pub const error_not_lz4: i64 = -8;

/// The symbolizer's functions (memrayd_sym_*, native/symbolize/api.zig).
const symbolize = @import("symbolize");

comptime {
    symbolize.api.exportSymbols();
}

comptime {
    @export(&memrayd_report_abi_version, .{ .name = "memrayd_report_abi_version" });
    @export(&memrayd_lz4_frame_bound, .{ .name = "memrayd_lz4_frame_bound" });
    @export(&memrayd_lz4_compress_frame, .{ .name = "memrayd_lz4_compress_frame" });
    @export(&memrayd_lz4_frame_content_size, .{ .name = "memrayd_lz4_frame_content_size" });
    @export(&memrayd_lz4_decompress_frame, .{ .name = "memrayd_lz4_decompress_frame" });
    @export(&memrayd_compress_capture, .{ .name = "memrayd_compress_capture" });
    @export(&memrayd_fold_capture, .{ .name = "memrayd_fold_capture" });
    @export(&memrayd_fold_free, .{ .name = "memrayd_fold_free" });
    @export(&memrayd_fold_memray, .{ .name = "memrayd_fold_memray" });
    @export(&memrayd_lz4_file_content_size, .{ .name = "memrayd_lz4_file_content_size" });
    @export(&memrayd_lz4_decompress_file, .{ .name = "memrayd_lz4_decompress_file" });
}

fn memrayd_report_abi_version() callconv(.c) u32 {
    return abi_version;
}

/// The output capacity `memrayd_lz4_compress_frame` needs for `input_len` bytes.
fn memrayd_lz4_frame_bound(input_len: usize) callconv(.c) usize {
    return frame.frame_bound(input_len);
}

/// Compresses `input` into one LZ4 frame in `output`; returns the frame's length.
fn memrayd_lz4_compress_frame(input: ?[*]const u8, input_len: usize, output: ?[*]u8, output_len: usize) callconv(.c) i64 {
    const in = slice_const(input, input_len) orelse return error_corrupt;
    const out = slice_mut(output, output_len) orelse return error_output_full;
    // The hash table is scratch for this call only, from the page allocator rather than the
    // stack, since FFI calls may run on threads with small stacks.
    const table = std.heap.page_allocator.create([block.hash_entries]u32) catch return error_out_of_memory;
    defer std.heap.page_allocator.destroy(table);
    const size = frame.compress(in, out, table) catch |err| return code(err);
    assert(size <= output_len);
    assert(size >= 19);
    return @intCast(size);
}

/// The decoded size of every frame in `input`, or error_size_unknown when a header lacks it.
fn memrayd_lz4_frame_content_size(input: ?[*]const u8, input_len: usize) callconv(.c) i64 {
    const in = slice_const(input, input_len) orelse return error_corrupt;
    const size = frame.content_size(in) catch |err| return code(err);
    if (size > std.math.maxInt(i64)) return error_corrupt;
    assert(size <= std.math.maxInt(i64));
    return @intCast(size);
}

/// Decodes every frame of `input` into `output`; returns the decoded length.
fn memrayd_lz4_decompress_frame(input: ?[*]const u8, input_len: usize, output: ?[*]u8, output_len: usize) callconv(.c) i64 {
    const in = slice_const(input, input_len) orelse return error_corrupt;
    const out = slice_mut(output, output_len) orelse return error_output_full;
    const size = frame.decompress(in, out) catch |err| return code(err);
    assert(size <= output_len);
    return @intCast(size);
}

/// Packs the live capture at `in_path` and writes it as one LZ4 frame to `out_path` (created or
/// truncated); returns the frame's length. error_corrupt: not a live capture the chunk walk
/// accepts (packed, bad header, a chunk claiming too much), out_path not created;
/// error_needs_decoding: the file ends inside a chunk's records, out_path not created.
fn memrayd_compress_capture(in_path: ?[*:0]const u8, out_path: ?[*:0]const u8) callconv(.c) i64 {
    const in = in_path orelse return error_io;
    const out = out_path orelse return error_io;
    const size = capture_pack.compress_file(in, out) catch |err| {
        const result = switch (err) {
            error.Corrupt => error_corrupt,
            error.NeedsDecoding => error_needs_decoding,
            error.Io => error_io,
            error.OutOfMemory => error_out_of_memory,
        };
        assert(result < 0);
        return result;
    };
    assert(size >= 19);
    assert(size <= std.math.maxInt(i64));
    return @intCast(size);
}

/// Decodes the events of an uncompressed capture of ours (header parsed by the caller) and folds
/// them into what `stats` and the peak snapshot need (fold_result.zig). `flags`: bit0 packed
/// layout, bit1 merge threads in the peak's locations. `progress` (null, or two u64: chunk bytes
/// decoded, chunk bytes in all) is updated once per chunk, for a caller on another thread to
/// watch. Returns a result to read and then pass to `memrayd_fold_free` (its `status` says
/// whether the fold succeeded), or null when out of memory.
fn memrayd_fold_capture(
    bytes: ?[*]const u8,
    bytes_len: usize,
    header_size_bytes: u32,
    chunk_size_bytes: u32,
    flags: u32,
    progress: ?*[2]u64,
) callconv(.c) ?*fold_result.FoldResult {
    const in = slice_const(bytes, bytes_len) orelse return null;
    const layout: fold_result.Layout = .{
        .header_size_bytes = header_size_bytes,
        .chunk_size_bytes = chunk_size_bytes,
        .packed_layout = flags & 1 != 0,
    };
    const result = fold_result.fold_capture(std.heap.c_allocator, in, layout, flags & 2 != 0, progress) orelse return null;
    assert(result.status <= 0);
    assert(result.event_count >= 0);
    return result;
}

/// Decodes the record stream `bytes[start..end)` of a memray 1.20 ALL_ALLOCATIONS capture (header
/// parsed by the caller, decompressed, zero padding trimmed) and folds it as `memrayd_fold_capture`
/// folds ours, into the same result (memray_fold.zig). `flags`: bit0 native traces, bit1 merge
/// threads in the peak's locations. `progress` as for `memrayd_fold_capture`, in stream bytes.
/// Free the result with `memrayd_fold_free`; null when out of memory.
fn memrayd_fold_memray(
    bytes: ?[*]const u8,
    bytes_len: usize,
    start: usize,
    end: usize,
    flags: u32,
    progress: ?*[2]u64,
) callconv(.c) ?*fold_result.FoldResult {
    const in = slice_const(bytes, bytes_len) orelse return null;
    const result = memray_fold.fold_memray(std.heap.c_allocator, in, start, end, flags & 1 != 0, flags & 2 != 0, progress) orelse return null;
    assert(result.status <= 0);
    assert(result.event_count >= 0);
    return result;
}

/// Frees a result of `memrayd_fold_capture` or `memrayd_fold_memray`; null is ignored.
fn memrayd_fold_free(result: ?*fold_result.FoldResult) callconv(.c) void {
    const r = result orelse return;
    assert(r.status <= 0);
    fold_result.free(std.heap.c_allocator, r);
}

/// The decoded size the LZ4 frames of the file at `path` state; error_not_lz4 when the file does
/// not start with a frame, error_io when it cannot be opened or mapped.
fn memrayd_lz4_file_content_size(path: ?[*:0]const u8) callconv(.c) i64 {
    const p = path orelse return error_io;
    const size = file_decompress.content_size(p) catch |err| return file_code(err);
    if (size > std.math.maxInt(i64)) return error_corrupt;
    assert(size <= std.math.maxInt(i64));
    return @intCast(size);
}

/// Decodes the LZ4 frames of the file at `path` into `output` (streamed a block at a time, or
/// mapped: never read into the caller's memory); returns the decoded length.
fn memrayd_lz4_decompress_file(path: ?[*:0]const u8, output: ?[*]u8, output_len: usize) callconv(.c) i64 {
    const p = path orelse return error_io;
    const out = slice_mut(output, output_len) orelse return error_output_full;
    const size = file_decompress.decompress(p, out) catch |err| return file_code(err);
    assert(size <= output_len);
    return @intCast(size);
}

fn file_code(err: file_decompress.Error) i64 {
    const result = switch (err) {
        error.NotLz4 => error_not_lz4,
        error.Io => error_io,
        error.OutputFull, error.Corrupt, error.Unsupported, error.SizeUnknown => |e| code(e),
    };
    assert(result < 0);
    return result;
}

fn code(err: frame.Error) i64 {
    const result = switch (err) {
        error.OutputFull => error_output_full,
        error.Corrupt => error_corrupt,
        error.Unsupported => error_unsupported,
        error.SizeUnknown => error_size_unknown,
    };
    assert(result < 0);
    return result;
}

/// A null pointer is accepted for an empty buffer (Deno passes null for empty typed arrays).
fn slice_const(ptr: ?[*]const u8, len: usize) ?[]const u8 {
    if (ptr) |p| return p[0..len];
    return if (len == 0) &.{} else null;
}

fn slice_mut(ptr: ?[*]u8, len: usize) ?[]u8 {
    if (ptr) |p| return p[0..len];
    return if (len == 0) &.{} else null;
}

test {
    _ = frame;
    _ = block;
    _ = capture_pack;
    _ = fold_result;
    _ = file_decompress;
    _ = @import("fold.zig");
    _ = @import("chunk_walk.zig");
    _ = memray_fold;
}
