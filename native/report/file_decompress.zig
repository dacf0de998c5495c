//! Decompressing an LZ4-framed capture straight from its file into the caller's buffer, so the
//! compressed bytes never enter JavaScript's heap. The common shape (one frame with a content size,
//! what `memray run` writes) is streamed a block at a time through a small buffer, so the
//! compressed copy is never whole in memory either; any other file is mapped and decoded by
//! lz4_frame.zig.
const std = @import("std");
const posix = std.posix;
const assert = std.debug.assert;
const frame = @import("lz4_frame.zig");
const block = @import("lz4_block.zig");

pub const Error = frame.Error || error{
    /// The file does not start with an LZ4 frame's magic (a raw capture).
    NotLz4,
    /// Opening, sizing or mapping the file failed.
    Io,
};

const MappedFile = struct {
    bytes: []align(std.heap.page_size_min) const u8,

    fn open(path: [*:0]const u8) Error!MappedFile {
        const fd = posix.openZ(path, .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, 0) catch return error.Io;
        defer posix.close(fd);
        const stat = posix.fstat(fd) catch return error.Io;
        // Shorter than a magic: not a frame (and mmap refuses empty files).
        if (stat.size < 4) return error.NotLz4;
        const size_bytes: usize = @intCast(stat.size);
        const bytes = posix.mmap(null, size_bytes, posix.PROT.READ, .{ .TYPE = .PRIVATE }, fd, 0) catch
            return error.Io;
        assert(bytes.len == size_bytes);
        // One forward pass: let the kernel read ahead. Advice only, so a failure changes nothing.
        posix.madvise(bytes.ptr, bytes.len, posix.MADV.SEQUENTIAL) catch {};
        const mapped: MappedFile = .{ .bytes = bytes };
        if (std.mem.readInt(u32, bytes[0..4], .little) != frame.magic) {
            mapped.close();
            return error.NotLz4;
        }
        return mapped;
    }

    fn close(self: MappedFile) void {
        posix.munmap(self.bytes);
    }
};

/// The decoded size the file's frames state.
pub fn content_size(path: [*:0]const u8) Error!u64 {
    const file = try MappedFile.open(path);
    defer file.close();
    assert(file.bytes.len >= 4);
    return frame.content_size(file.bytes);
}

/// Decodes every frame of the file into `output`; returns the decoded length.
pub fn decompress(path: [*:0]const u8, output: []u8) Error!usize {
    if (stream(path, output)) |size| return size else |err| switch (err) {
        error.NotStreamable => {},
        else => |e| return e,
    }
    const file = try MappedFile.open(path);
    defer file.close();
    const size = try frame.decompress(file.bytes, output);
    assert(size <= output.len);
    return size;
}

test "a raw file is not an LZ4 frame; a framed one decodes" {
    var dir = std.testing.tmpDir(.{});
    defer dir.cleanup();
    const raw = "MEMRAYDN and more bytes";
    try dir.dir.writeFile(.{ .sub_path = "raw.bin", .data = raw });
    var table: [@import("lz4_block.zig").hash_entries]u32 = undefined;
    var framed: [256]u8 = undefined;
    const framed_len = try frame.compress(raw, &framed, &table);
    try dir.dir.writeFile(.{ .sub_path = "framed.bin", .data = framed[0..framed_len] });
    var path_buf: [std.fs.max_path_bytes]u8 = undefined;
    const raw_path = try dir.dir.realpath("raw.bin", &path_buf);
    const raw_z = try std.testing.allocator.dupeZ(u8, raw_path);
    defer std.testing.allocator.free(raw_z);
    try std.testing.expectError(error.NotLz4, content_size(raw_z));
    const framed_path = try dir.dir.realpath("framed.bin", &path_buf);
    const framed_z = try std.testing.allocator.dupeZ(u8, framed_path);
    defer std.testing.allocator.free(framed_z);
    try std.testing.expectEqual(@as(u64, raw.len), try content_size(framed_z));
    var out: [raw.len]u8 = undefined;
    try std.testing.expectEqual(raw.len, try decompress(framed_z, &out));
    try std.testing.expectEqualStrings(raw, &out);
    // The streamed path read it (one frame with a content size).
    @memset(&out, 0);
    try std.testing.expectEqual(raw.len, try stream(framed_z, &out));
    try std.testing.expectEqualStrings(raw, &out);
    // Two frames back to back: left to the mapped path, which reads both.
    var twice: [512]u8 = undefined;
    @memcpy(twice[0..framed_len], framed[0..framed_len]);
    @memcpy(twice[framed_len..][0..framed_len], framed[0..framed_len]);
    try dir.dir.writeFile(.{ .sub_path = "twice.bin", .data = twice[0 .. 2 * framed_len] });
    const twice_path = try dir.dir.realpath("twice.bin", &path_buf);
    const twice_z = try std.testing.allocator.dupeZ(u8, twice_path);
    defer std.testing.allocator.free(twice_z);
    var out2: [2 * raw.len]u8 = undefined;
    try std.testing.expectError(error.NotStreamable, stream(twice_z, &out2));
    try std.testing.expectEqual(2 * raw.len, try decompress(twice_z, &out2));
    try std.testing.expectEqualStrings(raw ++ raw, &out2);
}

const StreamError = Error || error{NotStreamable};

/// Reads a file forward through a buffer of about two blocks.
const Reader = struct {
    fd: posix.fd_t,
    buf: []u8,
    /// Unread bytes: buf[lo..hi].
    lo: usize = 0,
    hi: usize = 0,
    /// File offset of buf[hi].
    file_pos: u64 = 0,

    /// Makes `n` bytes available at buf[lo..]; false at the end of the file.
    fn fill(self: *Reader, n: usize) Error!bool {
        assert(n <= self.buf.len);
        if (self.hi - self.lo >= n) return true;
        std.mem.copyForwards(u8, self.buf[0 .. self.hi - self.lo], self.buf[self.lo..self.hi]);
        self.hi -= self.lo;
        self.lo = 0;
        // Each read adds at least one byte or ends the loop: bounded by the buffer's length.
        while (self.hi < n) {
            const got = posix.pread(self.fd, self.buf[self.hi..], self.file_pos) catch return error.Io;
            if (got == 0) return false;
            self.hi += got;
            self.file_pos += got;
        }
        assert(self.hi - self.lo >= n);
        return true;
    }

    fn take(self: *Reader, n: usize) Error![]const u8 {
        if (!try self.fill(n)) return error.Corrupt;
        const bytes = self.buf[self.lo..][0..n];
        self.lo += n;
        return bytes;
    }
};

/// Streams a file holding exactly one LZ4 frame with a content size; error.NotStreamable for
/// any other shape (the caller maps the file instead).
fn stream(path: [*:0]const u8, output: []u8) StreamError!usize {
    const fd = posix.openZ(path, .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, 0) catch return error.Io;
    defer posix.close(fd);
    var header: [15]u8 = undefined;
    const header_len = posix.pread(fd, &header, 0) catch return error.Io;
    if (header_len < 7 or std.mem.readInt(u32, header[0..4], .little) != frame.magic) return error.NotStreamable;
    const flg = header[4];
    const bd = header[5];
    // Version 01, no dictionary id, a content size, a known block size.
    if (flg >> 6 != 1 or flg & 0x01 != 0 or flg & 0x08 == 0) return error.NotStreamable;
    const code = (bd >> 4) & 7;
    if (code < 4 or header_len < 15) return error.NotStreamable;
    if (@as(u8, @truncate(std.hash.XxHash32.hash(0, header[4..14]) >> 8)) != header[14]) return error.Corrupt;
    const stated_size = std.mem.readInt(u64, header[6..14], .little);
    if (stated_size > output.len) return error.OutputFull;
    const size: usize = @intCast(stated_size);
    const block_max_bytes = @as(usize, 1) << @intCast(8 + 2 * @as(u32, code));
    assert(block_max_bytes >= 64 << 10 and block_max_bytes <= 4 << 20);
    const buf = std.heap.page_allocator.alloc(u8, 2 * block_max_bytes + 16) catch return error.NotStreamable;
    defer std.heap.page_allocator.free(buf);
    var reader: Reader = .{ .fd = fd, .buf = buf, .file_pos = 15, .lo = 0, .hi = 0 };
    const frame_output = output[0..size];
    var out: usize = 0;
    // Each block is at least 4 bytes of file; a frame of more blocks than output bytes is
    // corrupt (an empty block adds nothing), so the loop stays bounded by the output's size.
    var blocks: usize = 0;
    while (true) : (blocks += 1) {
        if (blocks > size + 1) return error.Corrupt;
        const word = std.mem.readInt(u32, (try reader.take(4))[0..4], .little);
        if (word == 0) break;
        const body_len = word & 0x7fff_ffff;
        if (body_len > block_max_bytes) return error.Corrupt;
        const body = try reader.take(body_len);
        if (flg & 0x10 != 0) _ = try reader.take(4); // Block checksum: not verified, as lz4_frame.
        if (word & 0x8000_0000 != 0) {
            if (body_len > frame_output.len - out) return error.Corrupt;
            @memcpy(frame_output[out..][0..body_len], body);
            out += body_len;
            continue;
        }
        // Matches may reach back into earlier blocks (linked blocks), never past this one.
        const limit = @min(frame_output.len, out + block_max_bytes);
        out = block.decompress(body, frame_output[0..limit], out) catch return error.Corrupt;
    }
    if (out != size) return error.Corrupt;
    if (flg & 0x04 != 0) {
        const expected = std.mem.readInt(u32, (try reader.take(4))[0..4], .little);
        if (std.hash.XxHash32.hash(0, frame_output) != expected) return error.Corrupt;
    }
    // Anything after the frame (more frames, skippable ones): the mapped path reads those.
    if (try reader.fill(1)) return error.NotStreamable;
    assert(out <= output.len);
    return out;
}
