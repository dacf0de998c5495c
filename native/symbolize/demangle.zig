//! Demangling: Itanium C++ through libc++abi's `__cxa_demangle` (compiled into this library),
//! Rust legacy names (Itanium-shaped, `::h<hash>` dropped, `$LT$`-style escapes decoded) and
//! Rust v0 `_R` names (paths, generic arguments of common types; anything else stays mangled).
const std = @import("std");
const assert = std.debug.assert;
const v0 = @import("demangle_rust_v0.zig");

extern fn __cxa_demangle(mangled: [*:0]const u8, buffer: ?[*]u8, length: ?*usize, status: ?*c_int) ?[*:0]u8;

pub const max_name_bytes: usize = 4096;

// The two C++ runtime functions cxa_demangle.cpp (compiled alone, without exceptions) needs:
// std::terminate, __cxa_pure_virtual and sized operator delete. Hidden, so the library exports
// no C++ runtime.
comptime {
    @export(&terminate, .{ .name = "_ZSt9terminatev", .visibility = .hidden });
    @export(&pureVirtual, .{ .name = "__cxa_pure_virtual", .visibility = .hidden });
    @export(&deleteSized, .{ .name = "_ZdlPvm", .visibility = .hidden });
}

fn terminate() callconv(.c) noreturn {
    std.c.abort();
}

fn pureVirtual() callconv(.c) noreturn {
    std.c.abort();
}

fn deleteSized(pointer: ?*anyopaque, size_bytes: usize) callconv(.c) void {
    _ = size_bytes;
    std.c.free(pointer);
}

/// Writes the demangled form of `name` into `out` and returns it, or returns `name` itself when
/// it is not mangled or cannot be demangled.
pub fn demangle(name: []const u8, out: *[max_name_bytes]u8) []const u8 {
    if (name.len < 3 or name.len >= max_name_bytes) return name;
    if (std.mem.startsWith(u8, name, "_R")) return v0.demangle(name, out) orelse name;
    if (!std.mem.startsWith(u8, name, "_Z")) return name;
    // Rust legacy names hold `$` escapes, which the C++ demangler refuses.
    if (isRustLegacy(name)) if (rustLegacyPath(name, out)) |path| return rustLegacy(path);
    @memcpy(out[0..name.len], name);
    out[name.len] = 0;
    var status: c_int = 0;
    const result = __cxa_demangle(out[0..name.len :0], null, null, &status) orelse return name;
    defer std.c.free(result);
    if (status != 0) return name;
    const text = std.mem.span(result);
    if (text.len >= max_name_bytes) return name;
    @memcpy(out[0..text.len], text);
    const demangled = out[0..text.len];
    assert(demangled.len < max_name_bytes);
    return demangled;
}

/// `_ZN` {<length><bytes>} `E` joined with `::` into `out`.
fn rustLegacyPath(name: []const u8, out: *[max_name_bytes]u8) ?[]u8 {
    var pos: usize = 3;
    var len: usize = 0;
    for (0..256) |segment| {
        if (pos >= name.len) return null;
        if (name[pos] == 'E') return if (segment == 0) null else out[0..len];
        var size: usize = 0;
        while (pos < name.len and std.ascii.isDigit(name[pos])) : (pos += 1) {
            size = std.math.mul(usize, size, 10) catch return null;
            size += name[pos] - '0';
        }
        if (size == 0 or size > name.len - pos) return null;
        var part = name[pos..][0..size];
        pos += size;
        if (std.mem.startsWith(u8, part, "_$")) part = part[1..];
        const sep: []const u8 = if (segment == 0) "" else "::";
        if (len + sep.len + part.len > out.len) return null;
        @memcpy(out[len..][0..sep.len], sep);
        @memcpy(out[len + sep.len ..][0..part.len], part);
        len += sep.len + part.len;
    }
    return null;
}

/// `_ZN...17h<16 hex digits>E`: the hash path segment rustc appends.
fn isRustLegacy(name: []const u8) bool {
    if (!std.mem.startsWith(u8, name, "_ZN") or !std.mem.endsWith(u8, name, "E")) return false;
    if (name.len < 3 + 19 + 1) return false;
    const tail = name[name.len - 20 .. name.len - 1];
    if (!std.mem.startsWith(u8, tail, "17h")) return false;
    for (tail[3..]) |c| if (!std.ascii.isHex(c)) return false;
    return true;
}

/// Drops `::h<hash>` and decodes `$..$` escapes and `..` in place; returns the shorter text.
fn rustLegacy(text: []u8) []const u8 {
    var end = text.len;
    if (std.mem.lastIndexOf(u8, text, "::h")) |at| {
        if (text.len - at == 3 + 16) end = at;
    }
    var write: usize = 0;
    var read: usize = 0;
    while (read < end) {
        const rest = text[read..end];
        if (rest[0] == '$') {
            if (std.mem.indexOfScalarPos(u8, rest, 1, '$')) |close| {
                if (escape(rest[1..close])) |c| {
                    text[write] = c;
                    write += 1;
                    read += close + 1;
                    continue;
                }
            }
        } else if (std.mem.startsWith(u8, rest, "..")) {
            text[write] = ':';
            text[write + 1] = ':';
            write += 2;
            read += 2;
            continue;
        }
        text[write] = rest[0];
        write += 1;
        read += 1;
    }
    assert(write <= end);
    return text[0..write];
}

fn escape(code: []const u8) ?u8 {
    const table = [_]struct { []const u8, u8 }{
        .{ "SP", '@' }, .{ "BP", '*' }, .{ "RF", '&' }, .{ "LT", '<' }, .{ "GT", '>' },
        .{ "LP", '(' }, .{ "RP", ')' }, .{ "C", ',' },
    };
    for (table) |entry| if (std.mem.eql(u8, code, entry[0])) return entry[1];
    if (code.len >= 2 and code[0] == 'u') {
        const value = std.fmt.parseInt(u8, code[1..], 16) catch return null;
        return if (value >= 0x20 and value < 0x7f) value else null;
    }
    return null;
}

test "demangle: C++ and Rust legacy" {
    var out: [max_name_bytes]u8 = undefined;
    try std.testing.expectEqualStrings("ns::Widget::grow(int)", demangle("_ZN2ns6Widget4growEi", &out));
    try std.testing.expectEqualStrings("plain_c", demangle("plain_c", &out));
    try std.testing.expectEqualStrings("_Zgarbage", demangle("_Zgarbage", &out));
    try std.testing.expectEqualStrings(
        "<alloc::vec::Vec<T> as core::ops::Drop>::drop",
        demangle("_ZN60_$LT$alloc..vec..Vec$LT$T$GT$$u20$as$u20$core..ops..Drop$GT$4drop17h0123456789abcdefE", &out),
    );
    try std.testing.expectEqualStrings("std::rt::lang_start", demangle("_ZN3std2rt10lang_start17hc0b5e2f5a3d0c3b2E", &out));
}
