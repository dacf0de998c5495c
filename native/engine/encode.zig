//! Primitive encodings of docs/capture-format.md: LEB128 varints, zig-zag, length-prefixed bytes.
//! Writers encode straight into chunk memory whose room was reserved with the `max_*` bounds.
const std = @import("std");

pub const max_varint_bytes = 10;

/// A cursor over reserved chunk memory; every put is bounded by the reservation (asserted).
pub const Cursor = struct {
    buffer: []u8,
    position: usize = 0,

    pub fn putByte(self: *Cursor, value: u8) void {
        std.debug.assert(self.position < self.buffer.len);
        self.buffer[self.position] = value;
        self.position += 1;
    }

    /// The position lives in a register for the loop and is stored once: the hot path writes a
    /// size or an address delta per event, mostly one or two bytes.
    pub fn putVarint(self: *Cursor, value_in: u64) void {
        std.debug.assert(self.position + max_varint_bytes <= self.buffer.len or
            self.position + varintSize(value_in) <= self.buffer.len);
        const bytes = self.buffer.ptr;
        var position = self.position;
        var value = value_in;
        var count: usize = 1;
        // Nine 7-bit groups leave at most one bit: the loop ends by count 10 at the latest.
        while (value >= 0x80) : (count += 1) {
            std.debug.assert(count < max_varint_bytes);
            bytes[position] = @as(u8, @truncate(value)) | 0x80;
            value >>= 7;
            position += 1;
        }
        bytes[position] = @truncate(value);
        self.position = position + 1;
        std.debug.assert(self.position <= self.buffer.len);
    }

    /// A varint of up to 70 bits (10 bytes), for the rare values that need a 65th bit.
    pub fn putVarintWide(self: *Cursor, value_in: u128) void {
        std.debug.assert(value_in >> 70 == 0);
        std.debug.assert(self.position + max_varint_bytes <= self.buffer.len);
        var value = value_in;
        var count: usize = 0;
        while (count < max_varint_bytes) : (count += 1) {
            const low: u8 = @truncate(value & 0x7f);
            value >>= 7;
            if (value == 0) {
                self.buffer[self.position] = low;
                self.position += 1;
                return;
            }
            self.buffer[self.position] = low | 0x80;
            self.position += 1;
        }
        unreachable; // 70 bits fit in 10 groups of 7.
    }

    pub fn putSvarint(self: *Cursor, value: i64) void {
        self.putVarint(zigzag(value));
    }

    pub fn putBytes(self: *Cursor, bytes: []const u8) void {
        self.putVarint(bytes.len);
        std.debug.assert(self.position + bytes.len <= self.buffer.len);
        @memcpy(self.buffer[self.position..][0..bytes.len], bytes);
        self.position += bytes.len;
    }

    pub fn putU32(self: *Cursor, value: u32) void {
        std.debug.assert(self.position + 4 <= self.buffer.len);
        std.mem.writeInt(u32, self.buffer[self.position..][0..4], value, .little);
        self.position += 4;
    }
};

pub fn zigzag(value: i64) u64 {
    const shifted: u64 = @bitCast(value << 1);
    const sign: u64 = @bitCast(value >> 63);
    return shifted ^ sign;
}

/// Closed form, no loop: a loop here kept putVarint's assertion alive in ReleaseFast (LLVM could
/// not drop a loop it cannot prove finite), about 8 instructions per varint on the hot path.
pub fn varintSize(value: u64) usize {
    const bits: usize = 64 - @as(usize, @clz(value | 1));
    const size = (bits + 6) / 7;
    std.debug.assert(size >= 1);
    std.debug.assert(size <= max_varint_bytes);
    return size;
}

/// Bytes a length-prefixed string of `len` bytes takes at most.
pub fn bytesSizeMax(len: usize) usize {
    return max_varint_bytes + len;
}

test "zigzag and varint" {
    try std.testing.expectEqual(@as(u64, 0), zigzag(0));
    try std.testing.expectEqual(@as(u64, 1), zigzag(-1));
    try std.testing.expectEqual(@as(u64, 2), zigzag(1));
    try std.testing.expectEqual(@as(u64, std.math.maxInt(u64)), zigzag(std.math.minInt(i64)));
    var storage: [20]u8 = undefined;
    var cursor = Cursor{ .buffer = &storage };
    cursor.putVarint(300);
    try std.testing.expectEqualSlices(u8, &.{ 0xac, 0x02 }, storage[0..cursor.position]);
    cursor.position = 0;
    cursor.putVarintWide(@as(u128, 1) << 64);
    try std.testing.expectEqualSlices(u8, &.{ 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02 }, storage[0..cursor.position]);
}

test "varint group boundaries and the 10-byte maximum" {
    var storage: [max_varint_bytes]u8 = undefined;
    const cases = [_]u64{ 0, 0x7f, 0x80, 0x3fff, 0x4000, std.math.maxInt(u64) >> 1, std.math.maxInt(u64) };
    for (cases) |value| {
        var cursor = Cursor{ .buffer = &storage };
        cursor.putVarint(value);
        try std.testing.expectEqual(varintSize(value), cursor.position);
        // Decode it back: LEB128, low groups first.
        var decoded: u64 = 0;
        for (storage[0..cursor.position], 0..) |byte, index| {
            decoded |= @as(u64, byte & 0x7f) << @intCast(7 * index);
            try std.testing.expectEqual(index + 1 < cursor.position, byte & 0x80 != 0);
        }
        try std.testing.expectEqual(value, decoded);
    }
}
