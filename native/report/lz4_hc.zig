//! LZ4 block compressor of the high-compression kind (LZ4HC's hash chains with a bounded search
//! and one step of lazy matching), for captures compressed once after the program exits: they
//! are mostly short records repeating at irregular distances, which a single-probe table misses
//! (measured: a 19 MB `--trace-python-allocators` capture 7.9 MB with the fast compressor, 4.6 MB
//! with this one). The output is a plain LZ4 block: any LZ4 decoder reads it.
const std = @import("std");
const assert = std.debug.assert;
const block = @import("lz4_block.zig");

const match_min_bytes = block.match_min_bytes;
const offset_max = block.offset_max;

/// 2^15 chain heads (4-byte hash) and one 16-bit link per position of the 64 KiB window.
pub const head_log = 15;
const window_bytes = 1 << 16;

/// Candidates compared per searched position. More finds longer matches but costs time after
/// every run: with the lazy step, 4 came out as small as 8 on a 19 MB capture (5.66 MB), faster.
pub const attempts_default = 4;

/// Matches longer than this get only their last `long_match_tail_bytes` positions linked.
const long_match_bytes = 256;
const long_match_tail_bytes = 64;

/// Scratch state; its contents between calls do not matter (cleared per block).
pub const State = struct {
    /// Position + 1 of the latest position with each hash (0: none).
    head: [1 << head_log]u32,
    /// chain[p % 64 Ki]: distance from position p back to the previous one with its hash (0: none).
    chain: [window_bytes]u16,
};

/// Compresses `input` as one independent block into `output`; the compressed length, or null
/// when it does not fit (the caller stores the block uncompressed).
pub fn compress(input: []const u8, output: []u8, state: *State, attempts: u32) ?usize {
    assert(input.len <= block.block_max_bytes);
    assert(attempts >= 1);
    var out: usize = 0;
    var anchor: usize = 0;
    if (input.len >= block.match_start_margin_bytes + 1) {
        @memset(&state.head, 0);
        var finder = Finder{
            .input = input,
            .state = state,
            .attempts = attempts,
            .match_start_limit = input.len - block.match_start_margin_bytes,
            .match_end_limit = input.len - block.last_literals_bytes,
        };
        var ip: usize = 0;
        // Every pass emits a sequence (ip moves by its match, >= 4) or moves ip by one.
        var passes: usize = 0;
        while (ip <= finder.match_start_limit) : (passes += 1) {
            assert(passes <= input.len);
            var match = finder.find(ip) orelse {
                ip += 1;
                continue;
            };
            // Lazy step: a longer match one byte later wins over this one.
            var laziness: usize = 0;
            while (ip + 1 <= finder.match_start_limit) : (laziness += 1) {
                assert(laziness <= input.len);
                const next = finder.find(ip + 1) orelse break;
                if (next.len <= match.len) break;
                ip += 1;
                match = next;
            }
            // Extend backwards over literals not yet emitted.
            var start = ip;
            var ref = match.ref;
            while (start > anchor and ref > 0 and input[start - 1] == input[ref - 1]) {
                start -= 1;
                ref -= 1;
            }
            const len = match.len + (ip - start);
            assert(start + len <= finder.match_end_limit);
            out = block.emit_sequence(output, out, input[anchor..start], start - ref, len) orelse
                return null;
            ip = start + len;
            anchor = ip;
            // Inside a long match only its end is worth linking: a capture's long matches are
            // runs of one repeated record, whose every position finds the same match. Saves
            // most of the insertions on repetitive captures (4 MB: 15 ms -> 6 ms).
            if (len > long_match_bytes) {
                finder.next_insert = @max(finder.next_insert, ip - long_match_tail_bytes);
            }
        }
    }
    out = block.emit_last_literals(output, out, input[anchor..]) orelse return null;
    assert(out <= output.len);
    return out;
}

const Match = struct { ref: usize, len: usize };

const Finder = struct {
    input: []const u8,
    state: *State,
    attempts: u32,
    match_start_limit: usize,
    match_end_limit: usize,
    /// Positions below it are in the chains.
    next_insert: usize = 0,

    /// The longest match at `ip` among `attempts` candidates of its chain (null: none of 4 bytes).
    fn find(self: *Finder, ip: usize) ?Match {
        assert(ip <= self.match_start_limit);
        self.insertUpTo(ip);
        const word = read32(self.input, ip);
        var best: ?Match = null;
        // Indexes are computed before the arrays are named: `array[call()]` made Zig copy the
        // whole array first (measured: 95% of the time in memcpy).
        const head = &self.state.head;
        const chain = &self.state.chain;
        const slot = hash(word);
        var candidate: u32 = head[slot];
        var tried: u32 = 0;
        while (candidate != 0 and tried < self.attempts) : (tried += 1) {
            const ref: usize = candidate - 1;
            assert(ref < ip);
            if (ip - ref > offset_max) break;
            if (read32(self.input, ref) == word) {
                const len = match_min_bytes + block.common_prefix(
                    self.input,
                    ip + match_min_bytes,
                    ref + match_min_bytes,
                    self.match_end_limit,
                );
                if (best == null or len > best.?.len) best = .{ .ref = ref, .len = len };
                if (ip + len >= self.match_end_limit) break; // Nothing can be longer.
            }
            const link = ref % window_bytes;
            const delta = chain[link];
            if (delta == 0) break;
            candidate -= delta;
        }
        return best;
    }

    /// Links every position in [next_insert, ip) into its chain. A position more than 64 KiB
    /// behind its predecessor gets no link: the search would stop there anyway.
    fn insertUpTo(self: *Finder, ip: usize) void {
        assert(ip <= self.match_start_limit);
        const head = &self.state.head;
        const chain = &self.state.chain;
        var position = self.next_insert;
        while (position < ip) : (position += 1) {
            const h = hash(read32(self.input, position));
            const previous = head[h];
            const distance = position + 1 - previous;
            const link = position % window_bytes;
            chain[link] = if (previous == 0 or distance > offset_max) 0 else @intCast(distance);
            head[h] = @intCast(position + 1);
        }
        self.next_insert = @max(self.next_insert, ip);
        assert(self.next_insert >= ip);
    }
};

inline fn hash(word: u32) u32 {
    return (word *% 2654435761) >> (32 - head_log);
}

inline fn read32(input: []const u8, at: usize) u32 {
    return std.mem.readInt(u32, input[at..][0..4], .little);
}

const testing = std.testing;

fn round_trip(input: []const u8, attempts: u32) !usize {
    const state = try testing.allocator.create(State);
    defer testing.allocator.destroy(state);
    const packed_bytes = try testing.allocator.alloc(u8, input.len + input.len / 255 + 16);
    defer testing.allocator.free(packed_bytes);
    const size = compress(input, packed_bytes, state, attempts).?;
    const back = try testing.allocator.alloc(u8, input.len);
    defer testing.allocator.free(back);
    try testing.expectEqual(input.len, try block.decompress(packed_bytes[0..size], back, 0));
    try testing.expectEqualSlices(u8, input, back);
    return size;
}

test "round trip: empty, short, repetitive, random, long runs" {
    _ = try round_trip("", attempts_default);
    _ = try round_trip("abcdefghijklm", attempts_default);
    _ = try round_trip("abcabcabcabcabcabcabcabcabcabcabcabcabcabc", 1);
    var prng = std.Random.DefaultPrng.init(7);
    const buf = try testing.allocator.alloc(u8, 300_000);
    defer testing.allocator.free(buf);
    prng.random().bytes(buf);
    _ = try round_trip(buf, attempts_default);
    // Beyond the 64 KiB window: matches must never reach further back.
    for (buf, 0..) |*b, i| b.* = @intCast((i / 7) % 13);
    _ = try round_trip(buf, attempts_default);
    @memset(buf, 0x5a);
    _ = try round_trip(buf, 1);
}

test "smaller than the fast compressor on interleaved records" {
    // Records of a few bytes, each drawn from a small set at random: the shape of captures.
    const buf = try testing.allocator.alloc(u8, 200_000);
    defer testing.allocator.free(buf);
    var prng = std.Random.DefaultPrng.init(11);
    const random = prng.random();
    const records = [_][]const u8{ "\x81\x08\x04", "\x83", "\x8a\x10\x20\x30", "\x93\x55", "\x61\x82\x01" };
    var filled: usize = 0;
    while (filled + 4 <= buf.len) {
        const record = records[random.uintLessThan(usize, records.len)];
        @memcpy(buf[filled..][0..record.len], record);
        filled += record.len;
    }
    @memset(buf[filled..], 0);
    const hc_size = try round_trip(buf, attempts_default);
    const table = try testing.allocator.create([block.hash_entries]u32);
    defer testing.allocator.destroy(table);
    const out = try testing.allocator.alloc(u8, buf.len + buf.len / 255 + 16);
    defer testing.allocator.free(out);
    const fast_size = block.compress(buf, out, table).?;
    try testing.expect(hc_size < fast_size);
}

test "too-small output reports null" {
    var buf: [10_000]u8 = undefined;
    for (&buf, 0..) |*b, i| b.* = @intCast(i % 10);
    const state = try testing.allocator.create(State);
    defer testing.allocator.destroy(state);
    var out: [10_000]u8 = undefined;
    const size = compress(&buf, &out, state, attempts_default).?;
    try testing.expect(size < 100);
    try testing.expectEqual(@as(?usize, null), compress(&buf, out[0 .. size - 1], state, attempts_default));
}
