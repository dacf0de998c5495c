//! LZ4 frame format, the one the reference `lz4` tool reads and writes.
//! Writing: one frame, content size set, independent 4 MiB blocks, no checksums besides the
//! header's (the parameters lib/lz4/frame.ts `encodeLz4Frame` writes). A block that does not
//! shrink is stored uncompressed, so the output never exceeds `frame_bound(len)`.
//! Reading: one or more concatenated frames and skippable frames, independent or linked blocks,
//! with or without content size, block checksums skipped, the content checksum verified.
//! Dictionary ids and legacy frames are refused.
const std = @import("std");
const assert = std.debug.assert;
const block = @import("lz4_block.zig");
const hc = @import("lz4_hc.zig");

pub const magic = 0x184d2204;
const skippable_magic_mask = 0xfffffff0;
const skippable_magic = 0x184d2a50;
const header_bytes = 4 + 2 + 8 + 1;
const block_size_code_4mib = 7;
const end_mark_bytes = 4;
const raw_block_flag: u32 = 0x80000000;

pub const Error = error{
    /// The output buffer is too small for the result.
    OutputFull,
    /// Not an LZ4 frame, or a frame that is cut off or damaged.
    Corrupt,
    /// A valid frame this reader does not handle (dictionary id, legacy format, version).
    Unsupported,
    /// The frame's content size is not in its header.
    SizeUnknown,
};

/// The most bytes `compress` writes for `input_len` bytes of input.
pub fn frame_bound(input_len: usize) usize {
    const blocks = std.math.divCeil(usize, input_len, block.block_max_bytes) catch unreachable;
    const bound = header_bytes + blocks * 4 + input_len + end_mark_bytes;
    assert(bound >= input_len);
    return bound;
}

/// Writes `input` as one LZ4 frame into `output` and returns the frame's length. Its blocks are
/// `write_block_small`'s (the content is a capture, compressed once and kept), the same bytes
/// capture_pack.zig writes for the same content; the high-compression scratch comes from the
/// page allocator (without it, fast blocks only).
pub fn compress(input: []const u8, output: []u8, table: *[block.hash_entries]u32) Error!usize {
    assert(table.len == block.hash_entries);
    if (output.len < frame_bound(input.len)) return error.OutputFull;
    const allocator = std.heap.page_allocator;
    const hc_scratch: ?*HcScratch = allocator.create(HcScratch) catch null;
    defer if (hc_scratch) |scratch| allocator.destroy(scratch);
    var out: usize = write_header(output, input.len);
    var offset: usize = 0;
    const blocks_max = std.math.divCeil(usize, input.len, block.block_max_bytes) catch unreachable;
    var blocks: usize = 0;
    while (offset < input.len) : (blocks += 1) {
        assert(blocks < blocks_max);
        const chunk = input[offset..@min(offset + block.block_max_bytes, input.len)];
        out += write_block_small(chunk, output[out..], table, hc_scratch);
        offset += chunk.len;
    }
    out += write_end_mark(output[out..]);
    assert(out <= frame_bound(input.len));
    return out;
}

/// The bytes `write_header` writes.
pub const frame_header_bytes = header_bytes;
/// The most bytes `write_block` writes for one block.
pub const block_bound_bytes = 4 + block.block_max_bytes;
/// The bytes `write_end_mark` writes.
pub const frame_end_bytes = end_mark_bytes;

/// Writes the frame header for `content_size` bytes of content; returns its length. A streaming
/// writer calls it once, then `write_block` for every 4 MiB of content (the last block may be
/// shorter), then `write_end_mark`: the bytes `compress` writes for the same content.
pub fn write_header(output: []u8, content_size_bytes: u64) usize {
    assert(output.len >= header_bytes);
    std.mem.writeInt(u32, output[0..4], magic, .little);
    // FLG: version 01, independent blocks, content size present. BD: 4 MiB blocks.
    output[4] = 0x40 | 0x20 | 0x08;
    output[5] = block_size_code_4mib << 4;
    std.mem.writeInt(u64, output[6..14], content_size_bytes, .little);
    output[14] = header_checksum(output[4..14]);
    assert(header_bytes == 15);
    return header_bytes;
}

/// Writes one block of content (at most 4 MiB, not empty); returns its length, at most
/// `4 + chunk.len`. A block that does not shrink is stored uncompressed.
pub fn write_block(chunk: []const u8, output: []u8, table: *[block.hash_entries]u32) usize {
    assert(chunk.len > 0 and chunk.len <= block.block_max_bytes);
    assert(output.len >= 4 + chunk.len);
    const body = output[4..][0..chunk.len];
    // A block is worth compressing only if it shrinks: the body gets chunk.len - 1 bytes.
    if (block.compress(chunk, body[0 .. chunk.len - 1], table)) |size| {
        std.mem.writeInt(u32, output[0..4], @intCast(size), .little);
        return 4 + size;
    }
    std.mem.writeInt(u32, output[0..4], @as(u32, @intCast(chunk.len)) | raw_block_flag, .little);
    @memcpy(body, chunk);
    return 4 + chunk.len;
}

/// Scratch space of the high-compression pass of `write_block_small` (about 4.4 MiB: allocate
/// it, never put it on a stack).
pub const HcScratch = struct {
    hc_state: hc.State,
    trial: [block.block_max_bytes]u8,
};

/// Blocks the fast compressor shrinks to at most this share of their size also get the
/// high-compression one. Blocks it shrinks less are dense (many distinct addresses), where the
/// high-compression search found 2-5% more at 5-8 times the time (the 49-76% blocks of 76-88 MB
/// `--trace-python-allocators` captures of bench small_objects and threads); repetitive ones
/// shrink by 10-30% more (bench leak's 42-43% blocks: 8.2 MB -> 5.7 MB in all).
const hc_ratio_max_percent = 46;

/// `write_block` for content compressed once and kept (a finished capture): the fast block, or
/// the high-compression one (lz4_hc.zig) when the block is repetitive enough for it to pay and
/// it is smaller. Same layout and bound as `write_block`; any LZ4 decoder reads either.
/// Without `scratch` (it could not be allocated) it is `write_block`.
pub fn write_block_small(
    chunk: []const u8,
    output: []u8,
    table: *[block.hash_entries]u32,
    hc_scratch: ?*HcScratch,
) usize {
    assert(chunk.len > 0 and chunk.len <= block.block_max_bytes);
    assert(output.len >= 4 + chunk.len);
    const written = write_block(chunk, output, table);
    const fast_size = written - 4;
    const scratch = hc_scratch orelse return written;
    if (fast_size * 100 > chunk.len * hc_ratio_max_percent) return written;
    assert(std.mem.readInt(u32, output[0..4], .little) & raw_block_flag == 0);
    const trial = scratch.trial[0 .. fast_size - 1];
    const hc_size = hc.compress(chunk, trial, &scratch.hc_state, hc.attempts_default) orelse
        return written;
    assert(hc_size < fast_size);
    @memcpy(output[4..][0..hc_size], trial[0..hc_size]);
    std.mem.writeInt(u32, output[0..4], @intCast(hc_size), .little);
    return 4 + hc_size;
}

/// Writes the end mark that closes a frame; returns its length.
pub fn write_end_mark(output: []u8) usize {
    assert(output.len >= end_mark_bytes);
    std.mem.writeInt(u32, output[0..4], 0, .little);
    return end_mark_bytes;
}

/// The total decoded size of every frame in `input`, from their headers.
pub fn content_size(input: []const u8) Error!u64 {
    var total: u64 = 0;
    var frames = Frames{ .input = input };
    // Every frame or skippable frame consumes at least 8 bytes: bounded by the input's length.
    var steps: usize = 0;
    while (try frames.next()) |frame| : (steps += 1) {
        assert(steps <= input.len / 8);
        const size = frame.content_size orelse return error.SizeUnknown;
        total = std.math.add(u64, total, size) catch return error.Corrupt;
        frames.pos = try skip_blocks(input, frame);
    }
    assert(frames.pos <= input.len);
    return total;
}

/// Decodes every frame of `input` into `output` and returns the decoded length.
pub fn decompress(input: []const u8, output: []u8) Error!usize {
    var out: usize = 0;
    var frames = Frames{ .input = input };
    var steps: usize = 0;
    while (try frames.next()) |frame| : (steps += 1) {
        assert(steps <= input.len / 8);
        out = try decode_blocks(input, frame, output, out, &frames.pos);
    }
    assert(out <= output.len);
    return out;
}

const FrameInfo = struct {
    /// Offset of the first block-size word.
    blocks_at: usize,
    block_max_bytes: usize,
    block_checksum: bool,
    content_checksum: bool,
    content_size: ?u64,
};

/// Walks frame headers; skippable frames are passed over, garbage after a frame ends the walk
/// (as `lz4 -d` does), garbage at the start is an error.
const Frames = struct {
    input: []const u8,
    pos: usize = 0,
    frames: usize = 0,

    fn next(self: *Frames) Error!?FrameInfo {
        const input = self.input;
        // Skippable frames each consume at least 8 bytes: bounded by the input's length.
        var skipped: usize = 0;
        while (self.pos < input.len) : (skipped += 1) {
            assert(skipped <= input.len / 8);
            if (input.len - self.pos < 4) return if (self.frames > 0) null else error.Corrupt;
            const word = read32(input, self.pos);
            if (word & skippable_magic_mask == skippable_magic) {
                if (input.len - self.pos < 8) return error.Corrupt;
                const size = read32(input, self.pos + 4);
                if (size > input.len - self.pos - 8) return error.Corrupt;
                self.pos += 8 + size;
                continue;
            }
            if (word != magic) {
                if (self.frames > 0) return null;
                return if (word == 0x184c2102) error.Unsupported else error.Corrupt;
            }
            self.frames += 1;
            return try self.parse_header();
        }
        if (self.frames == 0) return error.Corrupt;
        return null;
    }

    fn parse_header(self: *Frames) Error!FrameInfo {
        const input = self.input;
        assert(read32(input, self.pos) == magic);
        const start = self.pos + 4;
        if (input.len - start < 3) return error.Corrupt;
        const flg = input[start];
        const bd = input[start + 1];
        if (flg >> 6 != 1) return error.Unsupported;
        if (flg & 0x01 != 0) return error.Unsupported; // Dictionary id.
        const has_size = flg & 0x08 != 0;
        const descriptor_len: usize = 2 + @as(usize, if (has_size) 8 else 0);
        if (input.len - start < descriptor_len + 1) return error.Corrupt;
        if (header_checksum(input[start..][0..descriptor_len]) != input[start + descriptor_len]) {
            return error.Corrupt;
        }
        const code = (bd >> 4) & 7;
        if (code < 4) return error.Corrupt;
        const info = FrameInfo{
            .blocks_at = start + descriptor_len + 1,
            .block_max_bytes = @as(usize, 1) << @intCast(8 + 2 * @as(u32, code)),
            .block_checksum = flg & 0x10 != 0,
            .content_checksum = flg & 0x04 != 0,
            .content_size = if (has_size) std.mem.readInt(u64, input[start + 2 ..][0..8], .little) else null,
        };
        assert(info.block_max_bytes >= 64 << 10 and info.block_max_bytes <= 4 << 20);
        self.pos = info.blocks_at;
        return info;
    }
};

/// Returns the offset just past the frame's end mark and content checksum.
fn skip_blocks(input: []const u8, frame: FrameInfo) Error!usize {
    var pos = frame.blocks_at;
    // Each block consumes at least its 4-byte size word: bounded by the input's length.
    var blocks: usize = 0;
    while (blocks <= input.len / 4) : (blocks += 1) {
        if (input.len - pos < 4) return error.Corrupt;
        const word = read32(input, pos);
        pos += 4;
        if (word == 0) break;
        const size = word & ~raw_block_flag;
        const span = size + @as(usize, if (frame.block_checksum) 4 else 0);
        if (size > frame.block_max_bytes or span > input.len - pos) return error.Corrupt;
        pos += span;
    }
    if (frame.content_checksum) {
        if (input.len - pos < 4) return error.Corrupt;
        pos += 4;
    }
    assert(pos <= input.len);
    return pos;
}

fn decode_blocks(input: []const u8, frame: FrameInfo, output: []u8, start: usize, pos_out: *usize) Error!usize {
    assert(start <= output.len);
    var pos = frame.blocks_at;
    var out = start;
    if (frame.content_size) |size| {
        if (size > output.len - out) return error.OutputFull;
    }
    // Matches may reach back into earlier blocks of this frame only (linked blocks).
    const frame_output = output[0..if (frame.content_size) |size| start + @as(usize, @intCast(size)) else output.len];
    var blocks: usize = 0;
    while (blocks <= input.len / 4) : (blocks += 1) {
        if (input.len - pos < 4) return error.Corrupt;
        const word = read32(input, pos);
        pos += 4;
        if (word == 0) break;
        const size = word & ~raw_block_flag;
        if (size > frame.block_max_bytes or size > input.len - pos) return error.Corrupt;
        const body = input[pos..][0..size];
        pos += size;
        if (frame.block_checksum) {
            if (input.len - pos < 4) return error.Corrupt;
            pos += 4;
        }
        if (word & raw_block_flag != 0) {
            if (size > frame_output.len - out) return if (frame.content_size != null) error.Corrupt else error.OutputFull;
            @memcpy(frame_output[out..][0..size], body);
            out += size;
            continue;
        }
        const limit = @min(frame_output.len, out + frame.block_max_bytes);
        const base = frame_output[start..limit];
        out = start + (block.decompress(body, base, out - start) catch |err| switch (err) {
            error.Corrupt => return error.Corrupt,
            error.OutputFull => return if (frame.content_size != null or limit - out == frame.block_max_bytes) error.Corrupt else error.OutputFull,
        });
    }
    if (frame.content_size) |size| {
        if (out - start != size) return error.Corrupt;
    }
    if (frame.content_checksum) {
        if (input.len - pos < 4) return error.Corrupt;
        const expected = read32(input, pos);
        pos += 4;
        if (std.hash.XxHash32.hash(0, output[start..out]) != expected) return error.Corrupt;
    }
    pos_out.* = pos;
    assert(out <= output.len);
    return out;
}

fn header_checksum(descriptor: []const u8) u8 {
    assert(descriptor.len >= 2);
    assert(descriptor.len <= 14);
    return @truncate(std.hash.XxHash32.hash(0, descriptor) >> 8);
}

inline fn read32(input: []const u8, at: usize) u32 {
    return std.mem.readInt(u32, input[at..][0..4], .little);
}

const testing = std.testing;

fn round_trip(input: []const u8) !void {
    const table = try testing.allocator.create([block.hash_entries]u32);
    defer testing.allocator.destroy(table);
    const frame = try testing.allocator.alloc(u8, frame_bound(input.len));
    defer testing.allocator.free(frame);
    const size = try compress(input, frame, table);
    try testing.expectEqual(@as(u64, input.len), try content_size(frame[0..size]));
    const back = try testing.allocator.alloc(u8, input.len);
    defer testing.allocator.free(back);
    try testing.expectEqual(input.len, try decompress(frame[0..size], back));
    try testing.expectEqualSlices(u8, input, back);
}

test "frames round trip across block boundaries" {
    try round_trip("");
    try round_trip("x");
    const big = try testing.allocator.alloc(u8, 9 << 20);
    defer testing.allocator.free(big);
    var prng = std.Random.DefaultPrng.init(1);
    prng.random().bytes(big[0 .. 5 << 20]);
    for (big[5 << 20 ..], 0..) |*b, i| b.* = @intCast((i / 3) % 200);
    try round_trip(big);
}

test "small blocks: repetitive content takes the smaller high-compression block" {
    const input = try testing.allocator.alloc(u8, 200_000);
    defer testing.allocator.free(input);
    // Runs of records of a few bytes, the run's record drawn at random from a small set: the
    // shape of a capture (loops allocating at a few lines).
    var prng = std.Random.DefaultPrng.init(3);
    const random = prng.random();
    const records = [_][]const u8{ "\x81\x08\x04", "\x83", "\x8a\x10\x20\x30", "\x93\x55", "\x61\x82\x01" };
    var filled: usize = 0;
    while (filled + 4 * 8 <= input.len) {
        const record = records[random.uintLessThan(usize, records.len)];
        for (0..random.uintLessThan(usize, 8) + 1) |_| {
            @memcpy(input[filled..][0..record.len], record);
            filled += record.len;
        }
    }
    @memset(input[filled..], 0);
    const scratch = try testing.allocator.create(HcScratch);
    defer testing.allocator.destroy(scratch);
    const table = try testing.allocator.create([block.hash_entries]u32);
    defer testing.allocator.destroy(table);
    const fast = try testing.allocator.alloc(u8, frame_bound(input.len));
    defer testing.allocator.free(fast);
    const fast_len = write_block(input, fast, table);
    const output = try testing.allocator.alloc(u8, frame_bound(input.len));
    defer testing.allocator.free(output);
    try testing.expectEqual(fast_len, write_block_small(input, output, table, null));
    var size = write_header(output, input.len);
    const block_len = write_block_small(input, output[size..], table, scratch);
    try testing.expect(block_len < fast_len);
    size += block_len;
    size += write_end_mark(output[size..]);
    const back = try testing.allocator.alloc(u8, input.len);
    defer testing.allocator.free(back);
    try testing.expectEqual(input.len, try decompress(output[0..size], back));
    try testing.expectEqualSlices(u8, input, back);
    // Random bytes: stored raw, as write_block does.
    prng.random().bytes(input);
    try testing.expectEqual(4 + input.len, write_block_small(input, output, table, scratch));
}

test "damaged frames are errors" {
    var table: [block.hash_entries]u32 = undefined;
    var frame: [64]u8 = undefined;
    const size = try compress("hello hello hello hello", &frame, &table);
    var out: [64]u8 = undefined;
    try testing.expectError(error.OutputFull, decompress(frame[0..size], out[0..5]));
    try testing.expectError(error.Corrupt, decompress(frame[0 .. size - 1], &out));
    frame[6] ^= 1; // Content size, so the header checksum no longer matches.
    try testing.expectError(error.Corrupt, decompress(frame[0..size], &out));
    try testing.expectError(error.Corrupt, decompress("not a frame", &out));
}
