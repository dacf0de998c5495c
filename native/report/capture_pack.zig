//! Packs a finished live capture and LZ4-compresses it in one pass, file to file: the bytes
//! lib/capture/pack.ts produces with `lz4CompressFrame(packCapture(raw))`, without reading the
//! capture into JavaScript or building the packed copy in memory (docs/capture-format.md, "File
//! layout"). The input is mapped read-only; the packed stream is gathered into one 4 MiB block
//! at a time and the frame leaves in large writes.
//!
//! Only chunk headers are read. A file that ends inside a chunk's records (a truncated copy)
//! needs its records decoded to find the last complete one: that is left to the TypeScript path
//! (error.NeedsDecoding), as is anything that is not a valid live capture (error.Corrupt), so
//! that the caller reports it with the reader's own messages.
const std = @import("std");
const posix = std.posix;
const assert = std.debug.assert;
const frame = @import("lz4_frame.zig");
const block = @import("lz4_block.zig");

pub const Error = error{
    /// Not a live capture this walk accepts: bad header, packed already, a chunk claiming more
    /// bytes than it holds.
    Corrupt,
    /// The file ends inside a chunk's records; only decoding them finds the last complete one.
    NeedsDecoding,
    /// Opening, mapping or writing a file failed.
    Io,
    OutOfMemory,
};

const capture_magic = "MEMRAYDN";
const format_version = 1;
const fixed_header_bytes = 72;
const chunk_header_bytes = 24;
const header_size_align_bytes = 4096;
const flag_packed: u32 = 1 << 3;

/// Output is written once this much has gathered: large writes, bounded memory.
const output_buffer_bytes = 4 * frame.block_bound_bytes + frame.frame_header_bytes + frame.frame_end_bytes;

/// Where the header ends and chunks start, and the size of the packed stream.
pub const Layout = struct {
    header_size_bytes: usize,
    chunk_size_bytes: usize,
    packed_size_bytes: u64,
};

/// Checks the header of a live capture and walks its chunk headers, as `packCapture` does.
pub fn layout(raw: []const u8) Error!Layout {
    if (raw.len < fixed_header_bytes) return error.Corrupt;
    if (!std.mem.eql(u8, raw[0..capture_magic.len], capture_magic)) return error.Corrupt;
    if (read32(raw, 8) != format_version) return error.Corrupt;
    const header_size_bytes: usize = read32(raw, 12);
    const flags = read32(raw, 16);
    const chunk_size_bytes: usize = read32(raw, 20);
    const metadata_bytes: usize = read32(raw, 64);
    if (header_size_bytes % header_size_align_bytes != 0 or header_size_bytes < fixed_header_bytes) {
        return error.Corrupt;
    }
    if (fixed_header_bytes + metadata_bytes > header_size_bytes) return error.Corrupt;
    if (raw.len < header_size_bytes) return error.Corrupt;
    if (flags & flag_packed != 0) return error.Corrupt;
    if (chunk_size_bytes <= chunk_header_bytes) return error.Corrupt;

    var packed_size_bytes: u64 = header_size_bytes;
    var chunks = Chunks.init(raw, header_size_bytes, chunk_size_bytes);
    while (try chunks.next()) |chunk| packed_size_bytes += chunk.len;
    assert(packed_size_bytes <= raw.len);
    assert(packed_size_bytes >= header_size_bytes);
    return .{
        .header_size_bytes = header_size_bytes,
        .chunk_size_bytes = chunk_size_bytes,
        .packed_size_bytes = packed_size_bytes,
    };
}

/// The non-empty chunks of a live capture, each as its header plus its used bytes.
const Chunks = struct {
    raw: []const u8,
    offset: usize,
    chunk_size_bytes: usize,
    steps: usize = 0,

    fn init(raw: []const u8, header_size_bytes: usize, chunk_size_bytes: usize) Chunks {
        assert(header_size_bytes <= raw.len);
        assert(chunk_size_bytes > chunk_header_bytes);
        return .{ .raw = raw, .offset = header_size_bytes, .chunk_size_bytes = chunk_size_bytes };
    }

    fn next(self: *Chunks) Error!?[]const u8 {
        const payload_max_bytes = self.chunk_size_bytes - chunk_header_bytes;
        // One chunk per step, each at least 25 bytes long: bounded by the file's length.
        while (self.offset + chunk_header_bytes <= self.raw.len) : (self.steps += 1) {
            assert(self.steps <= self.raw.len / self.chunk_size_bytes + 1);
            const offset = self.offset;
            self.offset += self.chunk_size_bytes;
            const used_bytes: usize = read32(self.raw, offset);
            if (used_bytes > payload_max_bytes) return error.Corrupt;
            if (offset + chunk_header_bytes + used_bytes > self.raw.len) return error.NeedsDecoding;
            if (used_bytes > 0) return self.raw[offset..][0 .. chunk_header_bytes + used_bytes];
        }
        return null;
    }
};

/// Writes the LZ4 frame of the packed form of `raw` (a live capture) to `fd`; returns the
/// frame's length. `fd` receives nothing unless `raw` passes `layout`.
pub fn compress_to_fd(raw: []const u8, fd: posix.fd_t) Error!u64 {
    const shape = try layout(raw);
    const allocator = std.heap.page_allocator;
    const table = allocator.create([block.hash_entries]u32) catch return error.OutOfMemory;
    defer allocator.destroy(table);
    // A capture is compressed once, after the program, and kept: smallest blocks.
    const hc_scratch = allocator.create(frame.HcScratch) catch return error.OutOfMemory;
    defer allocator.destroy(hc_scratch);
    const staging = allocator.alloc(u8, block.block_max_bytes) catch return error.OutOfMemory;
    defer allocator.free(staging);
    const output = allocator.alloc(u8, output_buffer_bytes) catch return error.OutOfMemory;
    defer allocator.free(output);

    var writer = Writer{
        .fd = fd,
        .table = table,
        .hc_scratch = hc_scratch,
        .staging = staging,
        .output = output,
    };
    writer.output_len = frame.write_header(output, shape.packed_size_bytes);
    // The copied header says "packed" and has no chunk size; the rest of it is unchanged.
    var fixed: [fixed_header_bytes]u8 = raw[0..fixed_header_bytes].*;
    std.mem.writeInt(u32, fixed[16..20], read32(raw, 16) | flag_packed, .little);
    std.mem.writeInt(u32, fixed[20..24], 0, .little);
    try writer.append(&fixed);
    try writer.append(raw[fixed_header_bytes..shape.header_size_bytes]);
    var chunks = Chunks.init(raw, shape.header_size_bytes, shape.chunk_size_bytes);
    while (try chunks.next()) |chunk| try writer.append(chunk);
    try writer.finish();
    assert(writer.content_bytes == shape.packed_size_bytes);
    assert(writer.written_bytes <= frame.frame_bound(shape.packed_size_bytes));
    return writer.written_bytes;
}

/// Gathers content into 4 MiB blocks, compresses each into `output`, and writes `output` to
/// `fd` whenever another block might not fit.
const Writer = struct {
    fd: posix.fd_t,
    table: *[block.hash_entries]u32,
    hc_scratch: *frame.HcScratch,
    staging: []u8,
    staging_len: usize = 0,
    output: []u8,
    output_len: usize = 0,
    content_bytes: u64 = 0,
    written_bytes: u64 = 0,

    fn append(self: *Writer, bytes: []const u8) Error!void {
        var rest = bytes;
        // Each step fills the staging block or empties `rest`: bounded by len / 4 MiB + 1.
        var steps: usize = 0;
        while (rest.len > 0) : (steps += 1) {
            assert(steps <= bytes.len / block.block_max_bytes + 1);
            const n = @min(rest.len, self.staging.len - self.staging_len);
            @memcpy(self.staging[self.staging_len..][0..n], rest[0..n]);
            self.staging_len += n;
            self.content_bytes += n;
            rest = rest[n..];
            if (self.staging_len == self.staging.len) try self.flush_block();
        }
        assert(self.staging_len < self.staging.len);
    }

    fn flush_block(self: *Writer) Error!void {
        assert(self.staging_len > 0);
        if (self.output.len - self.output_len < frame.block_bound_bytes) try self.flush_output();
        assert(self.output.len - self.output_len >= frame.block_bound_bytes);
        self.output_len += frame.write_block_small(
            self.staging[0..self.staging_len],
            self.output[self.output_len..],
            self.table,
            self.hc_scratch,
        );
        self.staging_len = 0;
    }

    fn finish(self: *Writer) Error!void {
        if (self.staging_len > 0) try self.flush_block();
        if (self.output.len - self.output_len < frame.frame_end_bytes) try self.flush_output();
        self.output_len += frame.write_end_mark(self.output[self.output_len..]);
        try self.flush_output();
        assert(self.output_len == 0);
        assert(self.staging_len == 0);
    }

    fn flush_output(self: *Writer) Error!void {
        var rest = self.output[0..self.output_len];
        // Every successful write moves at least one byte: bounded by the buffer's length.
        var writes: usize = 0;
        while (rest.len > 0) : (writes += 1) {
            assert(writes <= self.output_len);
            const n = posix.write(self.fd, rest) catch return error.Io;
            if (n == 0) return error.Io;
            rest = rest[n..];
        }
        self.written_bytes += self.output_len;
        self.output_len = 0;
    }
};

/// Packs and compresses the capture at `in_path` into a new file at `out_path` (created or
/// truncated, mode 0666 before the umask). `out_path` is not created when `layout` refuses the
/// input.
pub fn compress_file(in_path: [*:0]const u8, out_path: [*:0]const u8) Error!u64 {
    const in_fd = posix.openZ(in_path, .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, 0) catch
        return error.Io;
    defer posix.close(in_fd);
    const stat = posix.fstat(in_fd) catch return error.Io;
    if (stat.size < fixed_header_bytes) return error.Corrupt;
    const size_bytes: usize = @intCast(stat.size);
    const raw = posix.mmap(null, size_bytes, posix.PROT.READ, .{ .TYPE = .PRIVATE }, in_fd, 0) catch
        return error.Io;
    defer posix.munmap(raw);
    // One forward pass: let the kernel read ahead. Advice only, so a failure changes nothing.
    posix.madvise(raw.ptr, raw.len, posix.MADV.SEQUENTIAL) catch {};
    _ = try layout(raw);
    const out_fd = posix.openZ(
        out_path,
        .{ .ACCMODE = .WRONLY, .CREAT = true, .TRUNC = true, .CLOEXEC = true },
        0o666,
    ) catch return error.Io;
    defer posix.close(out_fd);
    const written_bytes = try compress_to_fd(raw, out_fd);
    assert(written_bytes >= frame.frame_header_bytes + frame.frame_end_bytes);
    return written_bytes;
}

inline fn read32(bytes: []const u8, at: usize) u32 {
    return std.mem.readInt(u32, bytes[at..][0..4], .little);
}

const testing = std.testing;

/// A live capture: 4096-byte header, `chunk_count` chunks of `chunk_size_bytes`, every third
/// one empty, the others filled to varying depths with record-like bytes.
fn test_capture(allocator: std.mem.Allocator, chunk_size_bytes: usize, chunk_count: usize) ![]u8 {
    const raw = try allocator.alloc(u8, 4096 + chunk_size_bytes * chunk_count);
    @memset(raw, 0);
    @memcpy(raw[0..8], capture_magic);
    std.mem.writeInt(u32, raw[8..12], format_version, .little);
    std.mem.writeInt(u32, raw[12..16], 4096, .little);
    std.mem.writeInt(u32, raw[16..20], 0x12, .little);
    std.mem.writeInt(u32, raw[20..24], @intCast(chunk_size_bytes), .little);
    const metadata = "{\"tool\":\"test\"}";
    std.mem.writeInt(u32, raw[64..68], metadata.len, .little);
    @memcpy(raw[72..][0..metadata.len], metadata);
    var prng = std.Random.DefaultPrng.init(11);
    for (0..chunk_count) |i| {
        if (i % 3 == 1) continue;
        const chunk = raw[4096 + i * chunk_size_bytes ..][0..chunk_size_bytes];
        const used = prng.random().intRangeAtMost(usize, 1, chunk_size_bytes - chunk_header_bytes);
        std.mem.writeInt(u32, chunk[0..4], @intCast(used), .little);
        std.mem.writeInt(u32, chunk[4..8], @intCast(i % 4 + 1), .little);
        for (chunk[chunk_header_bytes..][0..used], 0..) |*b, j| {
            b.* = if (j % 5 == 0) prng.random().int(u8) else @intCast((j / 3) % 7);
        }
    }
    return raw;
}

/// The packed layout, the way lib/capture/pack.ts builds it.
fn test_pack(allocator: std.mem.Allocator, raw: []const u8) ![]u8 {
    var out: std.ArrayList(u8) = .empty;
    errdefer out.deinit(allocator);
    const chunk_size_bytes: usize = read32(raw, 20);
    try out.appendSlice(allocator, raw[0..4096]);
    std.mem.writeInt(u32, out.items[16..20], read32(raw, 16) | flag_packed, .little);
    std.mem.writeInt(u32, out.items[20..24], 0, .little);
    var offset: usize = 4096;
    while (offset + chunk_header_bytes <= raw.len) : (offset += chunk_size_bytes) {
        const used: usize = read32(raw, offset);
        if (used > 0) try out.appendSlice(allocator, raw[offset..][0 .. chunk_header_bytes + used]);
    }
    return out.toOwnedSlice(allocator);
}

fn test_compress_file(raw: []const u8) !struct { Error!u64, ?[]u8 } {
    var dir = testing.tmpDir(.{});
    defer dir.cleanup();
    try dir.dir.writeFile(.{ .sub_path = "in.bin", .data = raw });
    var buf_in: [std.fs.max_path_bytes]u8 = undefined;
    var buf_out: [std.fs.max_path_bytes]u8 = undefined;
    const dir_path = try dir.dir.realpath(".", &buf_in);
    const in_path = try std.fmt.bufPrintZ(buf_out[0..], "{s}/in.bin", .{dir_path});
    var buf_out2: [std.fs.max_path_bytes]u8 = undefined;
    const out_path = try std.fmt.bufPrintZ(buf_out2[0..], "{s}/out.lz4", .{dir_path});
    const result = compress_file(in_path.ptr, out_path.ptr);
    const written = dir.dir.readFileAlloc(testing.allocator, "out.lz4", 1 << 30) catch null;
    return .{ result, written };
}

test "compress_file writes the frame of the packed capture, across 4 MiB blocks" {
    const raw = try test_capture(testing.allocator, 1 << 20, 24);
    defer testing.allocator.free(raw);
    const packed_bytes = try test_pack(testing.allocator, raw);
    defer testing.allocator.free(packed_bytes);
    try testing.expect(packed_bytes.len > block.block_max_bytes * 2);
    try testing.expectEqual(@as(u64, packed_bytes.len), (try layout(raw)).packed_size_bytes);

    const expected = try testing.allocator.alloc(u8, frame.frame_bound(packed_bytes.len));
    defer testing.allocator.free(expected);
    const table = try testing.allocator.create([block.hash_entries]u32);
    defer testing.allocator.destroy(table);
    const expected_len = try frame.compress(packed_bytes, expected, table);

    const result, const written = try test_compress_file(raw);
    defer if (written) |w| testing.allocator.free(w);
    try testing.expectEqual(@as(u64, expected_len), try result);
    try testing.expectEqualSlices(u8, expected[0..expected_len], written.?);

    const back = try testing.allocator.alloc(u8, packed_bytes.len);
    defer testing.allocator.free(back);
    try testing.expectEqual(packed_bytes.len, try frame.decompress(written.?, back));
    try testing.expectEqualSlices(u8, packed_bytes, back);
}

test "a file cut inside a chunk's records needs decoding and writes nothing" {
    const raw = try test_capture(testing.allocator, 64 << 10, 4);
    defer testing.allocator.free(raw);
    // Chunk 0 is filled to `used`; cut the file one byte before its records end.
    const used: usize = read32(raw, 4096);
    const cut = raw[0 .. 4096 + chunk_header_bytes + used - 1];
    try testing.expectError(error.NeedsDecoding, layout(cut));
    const result, const written = try test_compress_file(cut);
    try testing.expectError(error.NeedsDecoding, result);
    try testing.expectEqual(@as(?[]u8, null), written);
    // Cut inside a chunk header or after a chunk's records: nothing to decode.
    _ = try layout(raw[0 .. 4096 + 10]);
    _ = try layout(raw[0 .. 4096 + chunk_header_bytes + used]);
}

test "headers and chunks the walk refuses are corrupt" {
    const raw = try test_capture(testing.allocator, 64 << 10, 2);
    defer testing.allocator.free(raw);
    try testing.expectError(error.Corrupt, layout(raw[0..50]));
    try testing.expectError(error.Corrupt, layout(raw[0..4000]));
    const copy = try testing.allocator.dupe(u8, raw);
    defer testing.allocator.free(copy);
    copy[16] |= flag_packed;
    try testing.expectError(error.Corrupt, layout(copy));
    @memcpy(copy, raw);
    std.mem.writeInt(u32, copy[4096..][0..4], 64 << 10, .little);
    try testing.expectError(error.Corrupt, layout(copy));
    @memcpy(copy, raw);
    copy[0] = 'X';
    try testing.expectError(error.Corrupt, layout(copy));
}
