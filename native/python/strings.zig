//! Encodes the characters of a compact CPython string (latin-1, UCS-2 or UCS-4 storage) as UTF-8
//! into a caller-owned buffer, without allocating and without calling into CPython.

const std = @import("std");
const assert = std.debug.assert;

/// U+FFFD, written for a lone surrogate (Python strings may hold them, e.g. from surrogateescape
/// file names) so that the output is always valid UTF-8.
const replacement_utf8 = "\xEF\xBF\xBD";

/// Writes `length_chars` characters of `kind_bytes`-wide storage at `data` as UTF-8 into `out`.
/// Returns the number of bytes written, or null when `out` is too small or a code point is not
/// Unicode (a sign that the object is not what the caller thinks it is).
pub fn encodeUtf8(kind_bytes: u32, data: [*]const u8, length_chars: usize, out: []u8) ?usize {
    assert(kind_bytes == 1 or kind_bytes == 2 or kind_bytes == 4);
    var written_bytes: usize = 0;
    var index: usize = 0;
    while (index < length_chars) : (index += 1) {
        const code_point: u32 = switch (kind_bytes) {
            1 => data[index],
            2 => std.mem.readInt(u16, data[index * 2 ..][0..2], .little),
            4 => std.mem.readInt(u32, data[index * 4 ..][0..4], .little),
            else => unreachable,
        };
        if (code_point > 0x10FFFF) return null;
        const is_surrogate = code_point >= 0xD800 and code_point <= 0xDFFF;
        const size_bytes: usize = if (is_surrogate) 3 else std.unicode.utf8CodepointSequenceLength(
            @intCast(code_point),
        ) catch unreachable;
        if (out.len - written_bytes < size_bytes) return null;
        const target = out[written_bytes..][0..size_bytes];
        if (is_surrogate) {
            @memcpy(target, replacement_utf8);
        } else {
            _ = std.unicode.utf8Encode(@intCast(code_point), target) catch unreachable;
        }
        written_bytes += size_bytes;
    }
    assert(written_bytes >= length_chars);
    assert(written_bytes <= out.len);
    return written_bytes;
}

test "encodeUtf8 handles every storage kind" {
    var out: [64]u8 = undefined;
    const latin1 = [_]u8{ 'n', 0xE8, 'e' };
    const latin1_size = encodeUtf8(1, &latin1, latin1.len, &out).?;
    try std.testing.expectEqualStrings("n\u{E8}e", out[0..latin1_size]);

    const ucs2 = [_]u8{ 0x7D, 0x51, 0x70, 0x65, 0xFF, 0xDC }; // U+517D U+6570 lone U+DCFF
    const ucs2_size = encodeUtf8(2, &ucs2, 3, &out).?;
    try std.testing.expectEqualStrings("\u{517D}\u{6570}\u{FFFD}", out[0..ucs2_size]);

    const ucs4 = [_]u8{ 0x00, 0x00, 0x02, 0x00, 0x41, 0x00, 0x00, 0x00 }; // U+20000 'A'
    const ucs4_size = encodeUtf8(4, &ucs4, 2, &out).?;
    try std.testing.expectEqualStrings("\u{20000}A", out[0..ucs4_size]);
}

test "encodeUtf8 refuses a short buffer and non-Unicode values" {
    var out: [3]u8 = undefined;
    const ucs4 = [_]u8{ 0x00, 0x00, 0x02, 0x00 };
    try std.testing.expect(encodeUtf8(4, &ucs4, 1, &out) == null);
    const bogus = [_]u8{ 0x00, 0x00, 0x11, 0x00 };
    var wide: [8]u8 = undefined;
    try std.testing.expect(encodeUtf8(4, &bogus, 1, &wide) == null);
}
