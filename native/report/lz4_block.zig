//! LZ4 block format: a greedy single-probe compressor (the algorithm of LZ4's default fast mode:
//! one hash table of recent positions, no chains, a growing skip over incompressible input) and a
//! bounds-checked decompressor. Blocks are independent: the compressor never refers to data
//! before `input[0]`; the decompressor may (linked blocks), down to `output[0]`.
const std = @import("std");
const assert = std.debug.assert;

/// The format's limits: a match is at least 4 bytes, the last 5 bytes of a block are literals,
/// and no match starts in the last 12 bytes.
pub const match_min_bytes = 4;
pub const last_literals_bytes = 5;
pub const match_start_margin_bytes = 12;
pub const offset_max = 65535;

/// Hash table size: 2^12 entries (16 KiB of u32, LZ4's default) stays in L1. Measured on a
/// 112 MB capture: 2^14 entries shrink the output by 0.8% and take 40% longer.
/// The hash covers 4 bytes (LZ4 hashes 5 on 64-bit): captures hold many 4-byte matches, and
/// it gives 4% smaller output at the same speed.
pub const hash_log = 12;
pub const hash_entries = 1 << hash_log;

/// The largest block this compressor accepts (the frame's 4 MiB maximum block size).
pub const block_max_bytes = 4 << 20;

/// How many failed probes make the skip grow by one byte (LZ4's skip strength).
const skip_strength = 6;

/// Compresses `input` into `output` and returns the compressed length, or null when the result
/// would not fit in `output` (the caller then stores the block uncompressed). `table` is scratch
/// space; its previous contents do not matter for correctness.
pub fn compress(input: []const u8, output: []u8, table: *[hash_entries]u32) ?usize {
    assert(input.len <= block_max_bytes);
    assert(@intFromPtr(input.ptr) + input.len <= @intFromPtr(output.ptr) or
        @intFromPtr(output.ptr) + output.len <= @intFromPtr(input.ptr));
    var out: usize = 0;
    var anchor: usize = 0;
    if (input.len >= match_start_margin_bytes + 1) {
        // Stale entries from an earlier block are harmless (every candidate is verified), but
        // clearing keeps the output a pure function of the input.
        @memset(table, 0);
        const match_start_limit = input.len - match_start_margin_bytes;
        const match_end_limit = input.len - last_literals_bytes;
        var ip: usize = 1;
        table[hash(read32(input, 0))] = 0;
        // Each pass of the outer loop emits one sequence and moves `ip` forward by at least the
        // match length (>= 4), so it runs at most input.len / 4 times.
        var sequences: usize = 0;
        outer: while (ip <= match_start_limit) : (sequences += 1) {
            assert(sequences <= input.len / match_min_bytes);
            // Probe for a match; after every 2^skip_strength misses the stride grows by one.
            var probes: usize = 1 << skip_strength;
            var ref: usize = 0;
            while (true) {
                const word = read32(input, ip);
                const h = hash(word);
                ref = table[h];
                table[h] = @intCast(ip);
                if (ref < ip and ip - ref <= offset_max and read32(input, ref) == word) break;
                ip += probes >> skip_strength;
                probes += 1;
                if (ip > match_start_limit) break :outer;
            }
            // Extend the match backwards over literals not yet emitted.
            while (ip > anchor and ref > 0 and input[ip - 1] == input[ref - 1]) {
                ip -= 1;
                ref -= 1;
            }
            const match_len = match_min_bytes +
                common_prefix(input, ip + match_min_bytes, ref + match_min_bytes, match_end_limit);
            assert(ip + match_len <= match_end_limit);
            out = emit_sequence(output, out, input[anchor..ip], ip - ref, match_len) orelse
                return null;
            ip += match_len;
            anchor = ip;
            if (ip > match_start_limit) break;
            // Seed the table inside the match so the next sequence can start right after it.
            table[hash(read32(input, ip - 2))] = @intCast(ip - 2);
        }
    }
    out = emit_last_literals(output, out, input[anchor..]) orelse return null;
    assert(out <= output.len);
    return out;
}

/// Decompresses one block from `input` into `output[start..]` and returns the new end of the
/// output. Matches may reach back to `output[0]` (linked blocks). Errors: the block is corrupt,
/// or it decodes to more than `output.len - start` bytes.
pub fn decompress(input: []const u8, output: []u8, start: usize) error{ Corrupt, OutputFull }!usize {
    assert(start <= output.len);
    var ip: usize = 0;
    var op: usize = start;
    // Each sequence consumes at least its token byte, so input.len + 1 passes bound the loop.
    var sequences: usize = 0;
    while (sequences <= input.len) : (sequences += 1) {
        if (ip >= input.len) return error.Corrupt;
        const token = input[ip];
        ip += 1;
        var literal_len: usize = token >> 4;
        if (literal_len == 15) literal_len += try read_length(input, &ip);
        if (literal_len > input.len - ip) return error.Corrupt;
        if (literal_len > output.len - op) return error.OutputFull;
        @memcpy(output[op..][0..literal_len], input[ip..][0..literal_len]);
        ip += literal_len;
        op += literal_len;
        // The last sequence holds literals only and ends the block.
        if (ip == input.len) return op;
        if (input.len - ip < 2) return error.Corrupt;
        const offset: usize = @as(usize, input[ip]) | (@as(usize, input[ip + 1]) << 8);
        ip += 2;
        if (offset == 0 or offset > op) return error.Corrupt;
        var match_len: usize = (token & 15) + match_min_bytes;
        if (token & 15 == 15) match_len += try read_length(input, &ip);
        if (match_len > output.len - op) return error.OutputFull;
        copy_match(output, op, offset, match_len);
        op += match_len;
    }
    unreachable;
}

/// LZ4's extended length: bytes of 255 continue, the first byte below 255 ends it.
fn read_length(input: []const u8, ip: *usize) error{Corrupt}!usize {
    assert(ip.* <= input.len);
    var total: usize = 0;
    // One input byte per step: bounded by the input's length.
    while (ip.* < input.len) {
        const byte = input[ip.*];
        ip.* += 1;
        total += byte;
        if (byte != 255) return total;
    }
    return error.Corrupt;
}

fn copy_match(output: []u8, op: usize, offset: usize, len: usize) void {
    assert(offset > 0 and offset <= op);
    assert(op + len <= output.len);
    const from = op - offset;
    if (offset >= len) {
        @memcpy(output[op..][0..len], output[from..][0..len]);
        return;
    }
    if (offset >= 8) {
        // Overlapping, but 8-byte steps never read bytes this copy has yet to write.
        var i: usize = 0;
        while (i + 8 <= len) : (i += 8) {
            std.mem.writeInt(u64, output[op + i ..][0..8], std.mem.readInt(u64, output[from + i ..][0..8], .little), .little);
        }
        while (i < len) : (i += 1) output[op + i] = output[from + i];
        return;
    }
    // Short period (run-length style): byte by byte repeats the pattern.
    for (0..len) |i| output[op + i] = output[from + i];
}

pub fn emit_sequence(output: []u8, start: usize, literals: []const u8, offset: usize, match_len: usize) ?usize {
    assert(offset > 0 and offset <= offset_max);
    assert(match_len >= match_min_bytes);
    const need = 1 + literals.len / 255 + 1 + literals.len + 2 + (match_len - match_min_bytes) / 255 + 1;
    if (need > output.len - start) return null;
    var out = start;
    const token_at = out;
    out += 1;
    const literal_code: usize = @min(literals.len, 15);
    if (literal_code == 15) out = write_length(output, out, literals.len - 15);
    @memcpy(output[out..][0..literals.len], literals);
    out += literals.len;
    output[out] = @intCast(offset & 0xff);
    output[out + 1] = @intCast(offset >> 8);
    out += 2;
    const match_code: usize = @min(match_len - match_min_bytes, 15);
    if (match_code == 15) out = write_length(output, out, match_len - match_min_bytes - 15);
    output[token_at] = @intCast((literal_code << 4) | match_code);
    assert(out - start <= need);
    return out;
}

pub fn emit_last_literals(output: []u8, start: usize, literals: []const u8) ?usize {
    assert(start <= output.len);
    const need = 1 + literals.len / 255 + 1 + literals.len;
    if (need > output.len - start) return null;
    var out = start;
    const literal_code: usize = @min(literals.len, 15);
    output[out] = @intCast(literal_code << 4);
    out += 1;
    if (literal_code == 15) out = write_length(output, out, literals.len - 15);
    @memcpy(output[out..][0..literals.len], literals);
    out += literals.len;
    assert(out - start <= need);
    return out;
}

fn write_length(output: []u8, start: usize, len: usize) usize {
    assert(start + len / 255 + 1 <= output.len);
    var out = start;
    var rest = len;
    // One byte per 255 of length: bounded by the caller's space check.
    while (rest >= 255) : (rest -= 255) {
        output[out] = 255;
        out += 1;
    }
    output[out] = @intCast(rest);
    assert(out + 1 - start == len / 255 + 1);
    return out + 1;
}

/// Length of the common prefix of input[a..] and input[b..], not reaching `limit` from `a`.
pub fn common_prefix(input: []const u8, a: usize, b: usize, limit: usize) usize {
    assert(b < a);
    if (a >= limit) return 0;
    var i: usize = 0;
    const len = limit - a;
    // 8 bytes per step, then byte by byte: bounded by `len`.
    while (i + 8 <= len) : (i += 8) {
        const x = read64(input, a + i) ^ read64(input, b + i);
        if (x != 0) return i + (@ctz(x) >> 3);
    }
    while (i < len and input[a + i] == input[b + i]) i += 1;
    assert(i <= len);
    return i;
}

inline fn hash(word: u32) u32 {
    return (word *% 2654435761) >> (32 - hash_log);
}

inline fn read32(input: []const u8, at: usize) u32 {
    return std.mem.readInt(u32, input[at..][0..4], .little);
}

inline fn read64(input: []const u8, at: usize) u64 {
    return std.mem.readInt(u64, input[at..][0..8], .little);
}

const testing = std.testing;

fn round_trip(input: []const u8) !void {
    const table = try testing.allocator.create([hash_entries]u32);
    defer testing.allocator.destroy(table);
    const packed_bytes = try testing.allocator.alloc(u8, input.len + input.len / 255 + 16);
    defer testing.allocator.free(packed_bytes);
    const size = compress(input, packed_bytes, table).?;
    const back = try testing.allocator.alloc(u8, input.len);
    defer testing.allocator.free(back);
    try testing.expectEqual(input.len, try decompress(packed_bytes[0..size], back, 0));
    try testing.expectEqualSlices(u8, input, back);
}

test "round trip: empty, short, repetitive, random" {
    try round_trip("");
    try round_trip("abc");
    try round_trip("abcabcabcabcabcabcabcabcabcabcabcabcabcabc");
    var prng = std.Random.DefaultPrng.init(7);
    var buf: [100_000]u8 = undefined;
    prng.random().bytes(&buf);
    try round_trip(&buf);
    for (&buf, 0..) |*b, i| b.* = @intCast((i / 7) % 13);
    try round_trip(&buf);
}

test "compressible input shrinks, too-small output reports null" {
    var buf: [10_000]u8 = undefined;
    for (&buf, 0..) |*b, i| b.* = @intCast(i % 10);
    var table: [hash_entries]u32 = undefined;
    var out: [10_000]u8 = undefined;
    const size = compress(&buf, &out, &table).?;
    try testing.expect(size < 200);
    try testing.expectEqual(@as(?usize, null), compress(&buf, out[0 .. size - 1], &table));
}

test "corrupt blocks are errors, not crashes" {
    var out: [64]u8 = undefined;
    // Offset 0, offset beyond the output, a truncated length, literals past the end.
    try testing.expectError(error.Corrupt, decompress(&.{ 0x10, 'a', 0, 0 }, &out, 0));
    try testing.expectError(error.Corrupt, decompress(&.{ 0x10, 'a', 5, 0 }, &out, 0));
    try testing.expectError(error.Corrupt, decompress(&.{ 0xf0, 255 }, &out, 0));
    try testing.expectError(error.Corrupt, decompress(&.{ 0x50, 'a' }, &out, 0));
    try testing.expectError(error.OutputFull, decompress(&.{ 0x10, 'a', 1, 0 }, out[0..4], 0));
}
