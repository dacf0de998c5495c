//! A bounds-checked reader over bytes of a foreign file. Every read that would pass the end, and
//! every length or offset that does not fit, fails with error.Corrupt: debug data comes from
//! files we do not trust, and a bad file must cost a frame, never the report.
const std = @import("std");
const assert = std.debug.assert;

pub const Error = error{Corrupt};

pub const Reader = struct {
    bytes: []const u8,
    pos: usize = 0,

    pub fn init(bytes: []const u8) Reader {
        return .{ .bytes = bytes };
    }

    /// A reader starting at `offset` of `bytes`.
    pub fn at(bytes: []const u8, offset: u64) Error!Reader {
        if (offset > bytes.len) return error.Corrupt;
        return .{ .bytes = bytes, .pos = @intCast(offset) };
    }

    pub fn remaining(r: Reader) usize {
        assert(r.pos <= r.bytes.len);
        return r.bytes.len - r.pos;
    }

    pub fn done(r: Reader) bool {
        return r.remaining() == 0;
    }

    pub fn take(r: *Reader, len: u64) Error![]const u8 {
        if (len > r.remaining()) return error.Corrupt;
        const n: usize = @intCast(len);
        const out = r.bytes[r.pos..][0..n];
        r.pos += n;
        assert(r.pos <= r.bytes.len);
        return out;
    }

    pub fn skip(r: *Reader, len: u64) Error!void {
        _ = try r.take(len);
    }

    /// A sub-reader over the next `len` bytes; this reader moves past them.
    pub fn sub(r: *Reader, len: u64) Error!Reader {
        return Reader.init(try r.take(len));
    }

    pub fn int(r: *Reader, comptime T: type) Error!T {
        const raw = try r.take(@sizeOf(T));
        return std.mem.readInt(T, raw[0..@sizeOf(T)], .little);
    }

    pub fn byte(r: *Reader) Error!u8 {
        return r.int(u8);
    }

    /// An unsigned value of `size_bytes` (1, 2, 4 or 8) bytes: addresses and DWARF offsets.
    pub fn sized(r: *Reader, size_bytes: u8) Error!u64 {
        return switch (size_bytes) {
            1 => @as(u64, try r.int(u8)),
            2 => @as(u64, try r.int(u16)),
            4 => @as(u64, try r.int(u32)),
            8 => try r.int(u64),
            else => error.Corrupt,
        };
    }

    pub fn uleb(r: *Reader) Error!u64 {
        return (try r.leb128()).bits;
    }

    pub fn sleb(r: *Reader) Error!i64 {
        const leb = try r.leb128();
        var result = leb.bits;
        // Bit 6 of the last byte is the sign: extend it over the bits no byte gave.
        if (leb.shift < 64 and (leb.last & 0x40) != 0) {
            result |= ~@as(u64, 0) << @intCast(leb.shift);
        }
        return @bitCast(result);
    }

    const Leb128 = struct {
        /// The low 64 bits of the number, unextended.
        bits: u64,
        /// How many bits the bytes gave (7 a byte).
        shift: u32,
        /// The last byte (its bit 6 is the sign of a signed number).
        last: u8,
    };

    /// The 7-bit groups of a LEB128 number, for `uleb` and `sleb`.
    fn leb128(r: *Reader) Error!Leb128 {
        var result: u64 = 0;
        var shift: u32 = 0;
        // At most 10 bytes encode 64 bits; longer runs are garbage.
        for (0..10) |_| {
            const b = try r.byte();
            if (shift < 64) result |= @as(u64, b & 0x7f) << @intCast(shift);
            shift += 7;
            if (b & 0x80 == 0) {
                assert(shift % 7 == 0 and shift <= 70);
                return .{ .bits = result, .shift = shift, .last = b };
            }
        }
        assert(shift == 70);
        return error.Corrupt;
    }

    /// A NUL-terminated string (without the NUL).
    pub fn cstr(r: *Reader) Error![]const u8 {
        const rest = r.bytes[r.pos..];
        const len = std.mem.indexOfScalar(u8, rest, 0) orelse return error.Corrupt;
        r.pos += len + 1;
        assert(r.pos <= r.bytes.len);
        return rest[0..len];
    }
};

/// The NUL-terminated string at `offset` of a string section.
pub fn stringAt(section: []const u8, offset: u64) Error![]const u8 {
    var r = try Reader.at(section, offset);
    return r.cstr();
}

/// `a + b`, or error.Corrupt on overflow (sizes and offsets read from files).
pub fn add(a: u64, b: u64) Error!u64 {
    return std.math.add(u64, a, b) catch error.Corrupt;
}

test "reader: leb128, bounds and strings" {
    var r = Reader.init(&.{ 0xe5, 0x8e, 0x26, 0x7f, 0x80, 0x7f, 'h', 'i', 0 });
    try std.testing.expectEqual(@as(u64, 624485), try r.uleb());
    try std.testing.expectEqual(@as(i64, -1), try r.sleb());
    try std.testing.expectEqual(@as(i64, -128), try r.sleb());
    try std.testing.expectEqualStrings("hi", try r.cstr());
    try std.testing.expect(r.done());
    try std.testing.expectError(error.Corrupt, r.byte());
    var bad = Reader.init(&([_]u8{0xff} ** 12));
    try std.testing.expectError(error.Corrupt, bad.uleb());
    try std.testing.expectError(error.Corrupt, stringAt("abc", 1));
    try std.testing.expectError(error.Corrupt, Reader.at("abc", 4));
}
