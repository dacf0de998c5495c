//! One thread's append position in the capture file. Records are encoded straight into the
//! chunk; `used_bytes` is published with a release store after each record (crash safety).
//! Also the writer half of the compact event encoding (docs/capture-format.md, "Event records"):
//! implied sequence steps of 1, a 15-slot most-recently-used address cache, 16-byte aligned deltas.
const std = @import("std");
const capture_file = @import("capture_file.zig");
const encode = @import("encode.zig");

/// Addresses an event can name by slot instead of by delta (slot 15 of the byte means a miss).
pub const mru_slots = 15;
pub const mru_slot_miss: u8 = 15;

pub const type_seq_skip: u8 = 0x60;
/// SEQ_SKIP short form: 0x61-0x7F skip 1-31 with no body.
pub const seq_skip_short_max: u64 = 0x1F;
/// An event's first byte: 0x80 | slot << 3 | inline kind code (0: a kind byte follows).
pub const type_event_bit: u8 = 0x80;

/// Bytes an event takes at most besides its size: SEQ_SKIP, event byte, kind byte, address.
pub const event_head_size_max: u32 = 1 + encode.max_varint_bytes + 2 + encode.max_varint_bytes;

/// Inline kind code (1-7) of each kind, 0 for kinds written as a byte after the event byte.
/// The inline ones are the allocators a Python program calls millions of times.
const inline_code: [0x14]u8 = blk: {
    var table = [_]u8{0} ** 0x14;
    table[0x01] = 1; // malloc
    table[0x03] = 2; // realloc
    table[0x11] = 3; // free
    table[0x0A] = 4; // pymalloc_malloc
    table[0x0B] = 5; // pymalloc_calloc (objects the cyclic GC tracks: millions, unlike calloc)
    table[0x0C] = 6; // pymalloc_realloc
    table[0x13] = 7; // pymalloc_free
    break :blk table;
};

pub const ChunkWriter = struct {
    file: *capture_file.CaptureFile,
    thread_id: u32,
    chunk: ?[*]u8 = null,
    /// Payload bytes published in `chunk`. Reads as a full chunk while there is no chunk or the
    /// writer failed, so `reserve`'s inlined fast path is one compare: it falls through to
    /// `reserveSlow` for a first chunk and for a failed writer alike.
    used_bytes: u32 = capture_file.chunk_payload_size_bytes,
    next_chunk_index: u32 = 0,
    /// Decoder state mirrored per chunk: reset when a chunk starts.
    seq_last: u64 = 0,
    ip_last: u64 = 0,
    /// Most recent event addresses, most recent in slot 0 (which is also the base of address
    /// deltas). All zero at a chunk start. A plain array, not a vector: the engine is built for
    /// baseline x86-64 (SSE2, no 64-bit lane compare), where a 16-lane select cost ~110
    /// instructions per event against a few for the usual slot-0 or near-front hit.
    mru: [mru_slots]u64 = @splat(0),
    /// Set when the file refused a chunk: the session's records from this thread are dropped.
    failed: bool = false,

    /// Returns room for `size_bytes` in the current chunk, opening a new chunk if needed.
    /// `seq_floor` becomes the new chunk's `first_seq`: it must be below any event seq written later.
    /// Inlined: the common case (room left in the chunk) is one compare and the cursor.
    pub inline fn reserve(self: *ChunkWriter, size_bytes: u32, seq_floor: u64) ?encode.Cursor {
        std.debug.assert(size_bytes > 0);
        std.debug.assert(size_bytes <= capture_file.chunk_payload_size_bytes);
        if (self.used_bytes + size_bytes > capture_file.chunk_payload_size_bytes) {
            @branchHint(.unlikely);
            return self.reserveSlow(size_bytes, seq_floor);
        }
        std.debug.assert(!self.failed);
        const start = capture_file.chunk_header_size_bytes + self.used_bytes;
        return .{ .buffer = self.chunk.?[start .. start + size_bytes] };
    }

    /// A first chunk, a full chunk, or a failed writer (whose `used_bytes` reads as full).
    noinline fn reserveSlow(self: *ChunkWriter, size_bytes: u32, seq_floor: u64) ?encode.Cursor {
        std.debug.assert(size_bytes <= capture_file.chunk_payload_size_bytes);
        std.debug.assert(self.used_bytes + size_bytes > capture_file.chunk_payload_size_bytes);
        if (self.failed) return null;
        const chunk = self.file.claimChunk(self.thread_id, self.next_chunk_index, seq_floor) orelse {
            self.failed = true;
            self.used_bytes = capture_file.chunk_payload_size_bytes;
            return null;
        };
        self.chunk = chunk;
        self.used_bytes = 0;
        self.next_chunk_index += 1;
        self.resetState(seq_floor);
        const start = capture_file.chunk_header_size_bytes;
        return .{ .buffer = chunk[start .. start + size_bytes] };
    }

    fn resetState(self: *ChunkWriter, seq_floor: u64) void {
        self.seq_last = seq_floor;
        self.ip_last = 0;
        self.mru = @splat(0);
        std.debug.assert(self.mru[mru_slots - 1] == 0);
    }

    /// Publishes the record encoded into `cursor` (release: readers see complete bytes).
    pub fn commit(self: *ChunkWriter, cursor: encode.Cursor) void {
        std.debug.assert(cursor.position > 0);
        std.debug.assert(cursor.position <= cursor.buffer.len);
        self.used_bytes += @intCast(cursor.position);
        std.debug.assert(self.used_bytes <= capture_file.chunk_payload_size_bytes);
        const used: *u32 = @ptrCast(@alignCast(self.chunk.?));
        @atomicStore(u32, used, self.used_bytes, .release);
    }

    /// The explicit delta of a record that carries one (RSS, MODULES).
    pub fn seqDelta(self: *ChunkWriter, seq: u64) u64 {
        std.debug.assert(seq > self.seq_last);
        const delta = seq - self.seq_last;
        self.seq_last = seq;
        return delta;
    }

    pub fn ipDelta(self: *ChunkWriter, ip: u64) i64 {
        const delta: i64 = @bitCast(ip -% self.ip_last);
        self.ip_last = ip;
        return delta;
    }

    /// Encodes an event's head: a SEQ_SKIP when `seq` is not the next one, the event byte, the
    /// kind byte when the kind has no inline code, the address delta on a cache miss. The caller
    /// appends the size where the kind has one. `kind` is the ALLOC/FREE kind code (0x01-0x13).
    pub inline fn putEventHead(self: *ChunkWriter, cursor: *encode.Cursor, kind: u8, seq: u64, addr: u64) void {
        std.debug.assert(seq > self.seq_last);
        std.debug.assert(isKind(kind));
        std.debug.assert(cursor.buffer.len - cursor.position >= event_head_size_max);
        const skip = seq - self.seq_last - 1;
        self.seq_last = seq;
        if (skip != 0) {
            @branchHint(.unlikely);
            if (skip <= seq_skip_short_max) {
                cursor.putByte(type_seq_skip + @as(u8, @intCast(skip)));
            } else {
                cursor.putByte(type_seq_skip);
                cursor.putVarint(skip);
            }
        }
        const slot = self.mruFind(addr);
        const code = inline_code[kind];
        cursor.putByte(type_event_bit | (slot << 3) | code);
        if (code == 0) cursor.putByte(kind);
        if (slot == mru_slot_miss) putAddressDelta(cursor, addr -% self.mru[0]);
        self.mruMoveToFront(slot, addr);
        std.debug.assert(self.mru[0] == addr);
    }

    /// The lowest slot holding `addr`, or `mru_slot_miss`. Slot 0 first with a plain compare: a
    /// free right after its allocation and an allocation reusing the block just freed (tcache,
    /// pymalloc free lists) both hit it. The rest is an unrolled compare chain that stops early.
    inline fn mruFind(self: *const ChunkWriter, addr: u64) u8 {
        if (self.mru[0] == addr) return 0;
        return self.mruFindRest(addr);
    }

    fn mruFindRest(self: *const ChunkWriter, addr: u64) u8 {
        std.debug.assert(self.mru[0] != addr);
        std.debug.assert(mru_slots == 15);
        inline for (1..mru_slots) |slot| {
            if (self.mru[slot] == addr) return slot;
        }
        // (No assert calling indexOfScalar here: ReleaseFast still evaluates a call's arguments.)
        return mru_slot_miss;
    }

    /// Moves `addr` to slot 0: slots before its slot shift up by one; a miss drops slot 14.
    inline fn mruMoveToFront(self: *ChunkWriter, slot: u8, addr: u64) void {
        std.debug.assert(slot <= mru_slot_miss);
        std.debug.assert(slot == mru_slot_miss or self.mru[slot] == addr);
        if (slot == 0) return;
        const last: u8 = @min(slot, mru_slots - 1);
        // One fixed-size copy per distance (a jump table): the compiler moves k words with k/2
        // 16-byte loads and stores, where a word-by-word loop cost ~8 instructions per slot.
        // Allocators cycling through a few size classes hit slots 3-6 on every event.
        switch (last) {
            inline 1...mru_slots - 1 => |distance| {
                const moved: [distance]u64 = self.mru[0..distance].*;
                self.mru[1 .. distance + 1].* = moved;
            },
            else => unreachable,
        }
        self.mru[0] = addr;
    }
};

/// True for the event kinds: allocators 0x01-0x0C, deallocators 0x11-0x13.
pub fn isKind(kind: u8) bool {
    return (kind >= 0x01 and kind <= 0x0C) or (kind >= 0x11 and kind <= 0x13);
}

/// A miss's address delta. Allocators return 16-byte aligned blocks, so an aligned delta drops
/// its 4 zero bits: varint(zigzag(delta >> 4) << 1). Any other delta stays exact:
/// varint(zigzag(delta) << 1 | 1), up to 65 bits.
fn putAddressDelta(cursor: *encode.Cursor, delta_bytes: u64) void {
    const delta: i64 = @bitCast(delta_bytes);
    if (delta_bytes & 0xF == 0) {
        cursor.putVarint(encode.zigzag(delta >> 4) << 1);
    } else {
        @branchHint(.unlikely);
        cursor.putVarintWide((@as(u128, encode.zigzag(delta)) << 1) | 1);
    }
}

test "event head: implied seq, cache hits, aligned and unaligned deltas" {
    var file: capture_file.CaptureFile = .{};
    var writer = ChunkWriter{ .file = &file, .thread_id = 1 };
    writer.resetState(10);
    var storage: [256]u8 = undefined;
    var cursor = encode.Cursor{ .buffer = &storage };
    writer.putEventHead(&cursor, 0x01, 11, 0x1000); // miss, delta 0x100 << 1 = 0x200
    writer.putEventHead(&cursor, 0x11, 12, 0x1000); // hit slot 0
    writer.putEventHead(&cursor, 0x09, 20, 0x1008); // skip 7, kind byte, unaligned delta 8
    writer.putEventHead(&cursor, 0x0A, 21, 0x1000); // hit slot 1
    writer.putEventHead(&cursor, 0x0A, 100, 0x1000); // long skip 78, hit slot 0
    try std.testing.expectEqualSlices(u8, &.{
        0x80 | 15 << 3 | 1, 0x80, 0x08, //
        0x80 | 0 << 3 | 3, //
        0x67, 0x80 | 15 << 3, 0x09, 0x21, //
        0x80 | 1 << 3 | 4, //
        0x60,
        78,
        0x80 | 4,
    }, storage[0..cursor.position]);
}

test "cache keeps 15 addresses, most recent first" {
    var file: capture_file.CaptureFile = .{};
    var writer = ChunkWriter{ .file = &file, .thread_id = 1 };
    writer.resetState(0);
    var address: u64 = 16;
    while (address <= 16 * 16) : (address += 16) {
        const slot = writer.mruFind(address);
        try std.testing.expectEqual(mru_slot_miss, slot);
        writer.mruMoveToFront(slot, address);
    }
    try std.testing.expectEqual(mru_slot_miss, writer.mruFind(16)); // The 16th back was dropped.
    try std.testing.expectEqual(@as(u8, 14), writer.mruFind(32));
    writer.mruMoveToFront(14, 32);
    try std.testing.expectEqual(@as(u8, 0), writer.mruFind(32));
    try std.testing.expectEqual(@as(u8, 1), writer.mruFind(256));
}

test "cache matches the format's move-to-front model on a random address stream" {
    var file: capture_file.CaptureFile = .{};
    var writer = ChunkWriter{ .file = &file, .thread_id = 1 };
    writer.resetState(0);
    // The model is docs/capture-format.md read literally: a list, most recent first, 15 long.
    var model: [mru_slots]u64 = @splat(0);
    var prng = std.Random.DefaultPrng.init(0x5eed);
    const random = prng.random();
    var slot_hits: [mru_slots + 1]u32 = @splat(0);
    var step: u32 = 0;
    while (step < 20_000) : (step += 1) {
        // A pool of 24 addresses (zero included) makes hits at every slot and misses.
        const address: u64 = random.uintLessThan(u64, 24) * 16;
        const expected: u8 = if (std.mem.indexOfScalar(u64, &model, address)) |index| @intCast(index) else mru_slot_miss;
        const slot = writer.mruFind(address);
        try std.testing.expectEqual(expected, slot);
        const last: usize = @min(expected, mru_slots - 1);
        std.mem.copyBackwards(u64, model[1 .. last + 1], model[0..last]);
        model[0] = address;
        writer.mruMoveToFront(slot, address);
        try std.testing.expectEqualSlices(u64, &model, &writer.mru);
        slot_hits[slot] += 1;
    }
    for (slot_hits) |hits| try std.testing.expect(hits > 0);
}

test "a writer without a chunk or with a failed file takes the slow path and reports null" {
    var file: capture_file.CaptureFile = .{};
    var writer = ChunkWriter{ .file = &file, .thread_id = 1 };
    try std.testing.expectEqual(capture_file.chunk_payload_size_bytes, writer.used_bytes);
    writer.failed = true;
    try std.testing.expect(writer.reserve(1, 0) == null);
    try std.testing.expect(writer.reserve(capture_file.chunk_payload_size_bytes, 0) == null);
    try std.testing.expectEqual(capture_file.chunk_payload_size_bytes, writer.used_bytes);
}
