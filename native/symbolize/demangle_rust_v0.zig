//! Rust v0 symbol names (`_R...`, RFC 2603): paths with their generic arguments. Types beyond
//! the common ones (function pointers, dyn bounds, constants other than integers) make the
//! name stay mangled rather than come out wrong.
const std = @import("std");
const assert = std.debug.assert;

const max_depth: u32 = 64;

const Demangler = struct {
    input: []const u8,
    pos: usize,
    out: []u8,
    len: usize = 0,
    depth: u32 = 0,

    const Fail = error{Fail};

    fn peek(d: *const Demangler) u8 {
        return if (d.pos < d.input.len) d.input[d.pos] else 0;
    }

    fn next(d: *Demangler) Fail!u8 {
        if (d.pos >= d.input.len) return error.Fail;
        d.pos += 1;
        return d.input[d.pos - 1];
    }

    fn eat(d: *Demangler, c: u8) bool {
        if (d.peek() != c) return false;
        d.pos += 1;
        return true;
    }

    fn write(d: *Demangler, text: []const u8) Fail!void {
        if (d.len + text.len > d.out.len) return error.Fail;
        @memcpy(d.out[d.len..][0..text.len], text);
        d.len += text.len;
    }

    fn base62(d: *Demangler) Fail!u64 {
        if (d.eat('_')) return 0;
        var value: u64 = 0;
        for (0..12) |_| {
            const c = try d.next();
            if (c == '_') return std.math.add(u64, value, 1) catch error.Fail;
            const digit: u64 = switch (c) {
                '0'...'9' => c - '0',
                'a'...'z' => c - 'a' + 10,
                'A'...'Z' => c - 'A' + 36,
                else => return error.Fail,
            };
            value = std.math.add(u64, std.math.mul(u64, value, 62) catch return error.Fail, digit) catch return error.Fail;
        }
        return error.Fail;
    }

    fn decimal(d: *Demangler) Fail!u64 {
        var value: u64 = 0;
        var digits: usize = 0;
        while (std.ascii.isDigit(d.peek())) : (digits += 1) {
            if (digits > 10) return error.Fail;
            value = value * 10 + (d.input[d.pos] - '0');
            d.pos += 1;
        }
        if (digits == 0) return error.Fail;
        return value;
    }

    fn disambiguator(d: *Demangler) Fail!u64 {
        return if (d.eat('s')) std.math.add(u64, try d.base62(), 1) catch error.Fail else 0;
    }

    /// Returns the identifier's bytes (punycode ones are shown undecoded).
    fn identifier(d: *Demangler) Fail![]const u8 {
        _ = try d.disambiguator();
        _ = d.eat('u');
        const length = try d.decimal();
        _ = d.eat('_');
        if (length > d.input.len - d.pos) return error.Fail;
        const text = d.input[d.pos..][0..@intCast(length)];
        d.pos += @intCast(length);
        return text;
    }

    fn enter(d: *Demangler) Fail!void {
        d.depth += 1;
        if (d.depth > max_depth) return error.Fail;
    }

    fn backref(d: *Demangler, comptime what: enum { path, type }) Fail!void {
        const start = d.pos - 1;
        const target = std.math.add(u64, try d.base62(), 2) catch return error.Fail; // from after "_R"
        if (target >= start) return error.Fail;
        const saved = d.pos;
        d.pos = @intCast(target);
        switch (what) {
            .path => try d.path(),
            .type => try d.type_(),
        }
        d.pos = saved;
    }

    fn path(d: *Demangler) Fail!void {
        try d.enter();
        defer d.depth -= 1;
        switch (try d.next()) {
            'C' => try d.write(try d.identifier()),
            'N' => {
                const namespace = try d.next();
                try d.path();
                const dis = try d.disambiguator();
                _ = d.eat('u');
                const length = try d.decimal();
                _ = d.eat('_');
                if (length > d.input.len - d.pos) return error.Fail;
                const name = d.input[d.pos..][0..@intCast(length)];
                d.pos += @intCast(length);
                try d.write("::");
                if (std.ascii.isUpper(namespace)) {
                    var buffer: [64]u8 = undefined;
                    const kind = if (namespace == 'C') "closure" else if (namespace == 'S') "shim" else "unknown";
                    try d.write(std.fmt.bufPrint(&buffer, "{{{s}", .{kind}) catch return error.Fail);
                    if (name.len > 0) {
                        try d.write(":");
                        try d.write(name);
                    }
                    try d.write(std.fmt.bufPrint(&buffer, "#{d}}}", .{dis}) catch return error.Fail);
                } else try d.write(name);
            },
            'M' => {
                _ = try d.disambiguator();
                try d.skipPath();
                try d.write("<");
                try d.type_();
                try d.write(">");
            },
            'X' => {
                _ = try d.disambiguator();
                try d.skipPath();
                try d.write("<");
                try d.type_();
                try d.write(" as ");
                try d.path();
                try d.write(">");
            },
            'Y' => {
                try d.write("<");
                try d.type_();
                try d.write(" as ");
                try d.path();
                try d.write(">");
            },
            'I' => {
                try d.path();
                try d.write("<");
                var first = true;
                for (0..256) |_| {
                    if (d.eat('E')) break;
                    if (!first) try d.write(", ");
                    first = false;
                    try d.genericArg();
                } else return error.Fail;
                try d.write(">");
            },
            'B' => try d.backref(.path),
            else => return error.Fail,
        }
    }

    /// An impl's own path is not printed (as rustc-demangle does): parse it into nothing.
    fn skipPath(d: *Demangler) Fail!void {
        const saved = d.len;
        try d.path();
        d.len = saved;
    }

    fn genericArg(d: *Demangler) Fail!void {
        if (d.eat('L')) {
            _ = try d.base62();
            try d.write("'_");
        } else if (d.eat('K')) {
            try d.constant();
        } else try d.type_();
    }

    fn constant(d: *Demangler) Fail!void {
        if (d.eat('p')) return d.write("_");
        const kind = try d.next();
        if (std.mem.indexOfScalar(u8, "hmjytosilxanb", kind) == null) return error.Fail;
        const negative = d.eat('n');
        const start = d.pos;
        for (0..33) |_| {
            if (d.eat('_')) break;
            if (!std.ascii.isHex(try d.next())) return error.Fail;
        } else return error.Fail;
        const digits = d.input[start .. d.pos - 1];
        const value = if (digits.len == 0) 0 else std.fmt.parseInt(u64, digits, 16) catch return error.Fail;
        var buffer: [24]u8 = undefined;
        if (negative) try d.write("-");
        try d.write(std.fmt.bufPrint(&buffer, "{d}", .{value}) catch return error.Fail);
    }

    fn type_(d: *Demangler) Fail!void {
        try d.enter();
        defer d.depth -= 1;
        const c = d.peek();
        if (basic(c)) |name| {
            d.pos += 1;
            return d.write(name);
        }
        switch (c) {
            'R', 'Q' => {
                d.pos += 1;
                if (d.eat('L')) _ = try d.base62();
                try d.write(if (c == 'R') "&" else "&mut ");
                try d.type_();
            },
            'P', 'O' => {
                d.pos += 1;
                try d.write(if (c == 'P') "*const " else "*mut ");
                try d.type_();
            },
            'A', 'S' => {
                d.pos += 1;
                try d.write("[");
                try d.type_();
                if (c == 'A') {
                    try d.write("; ");
                    try d.constant();
                }
                try d.write("]");
            },
            'T' => {
                d.pos += 1;
                try d.write("(");
                var count: usize = 0;
                for (0..256) |_| {
                    if (d.eat('E')) break;
                    if (count > 0) try d.write(", ");
                    try d.type_();
                    count += 1;
                } else return error.Fail;
                if (count == 1) try d.write(",");
                try d.write(")");
            },
            'B' => {
                d.pos += 1;
                try d.backref(.type);
            },
            'C', 'N', 'M', 'X', 'Y', 'I' => try d.path(),
            else => return error.Fail,
        }
    }
};

fn basic(c: u8) ?[]const u8 {
    return switch (c) {
        'a' => "i8",
        'b' => "bool",
        'c' => "char",
        'd' => "f64",
        'e' => "str",
        'f' => "f32",
        'h' => "u8",
        'i' => "isize",
        'j' => "usize",
        'l' => "i32",
        'm' => "u32",
        'n' => "i128",
        'o' => "u128",
        's' => "i16",
        't' => "u16",
        'u' => "()",
        'v' => "...",
        'x' => "i64",
        'y' => "u64",
        'z' => "!",
        'p' => "_",
        else => null,
    };
}

/// The demangled path of a v0 name in `out`, or null when it is not one we can read.
pub fn demangle(name: []const u8, out: []u8) ?[]const u8 {
    if (!std.mem.startsWith(u8, name, "_R")) return null;
    var d = Demangler{ .input = name, .pos = 2, .out = out };
    if (std.ascii.isDigit(d.peek())) _ = d.decimal() catch return null;
    d.path() catch return null;
    assert(d.len <= out.len);
    assert(d.depth == 0);
    return out[0..d.len];
}

test "demangle_rust_v0: paths, generics, closures, garbage" {
    var out: [512]u8 = undefined;
    try std.testing.expectEqualStrings("mycrate::foo::bar", demangle("_RNvNtCs1234_7mycrate3foo3bar", &out).?);
    try std.testing.expectEqualStrings("mycrate::main::{closure#0}", demangle("_RNCNvCsgStHSCytQ6I_7mycrate4main0B3_", &out).?);
    try std.testing.expectEqualStrings("<mycrate::Foo<u32, &str>>::new", demangle("_RNvMs_Cs4Cv8Wi1oAIB_7mycrateINtB4_3FoomReE3new", &out).?);
    try std.testing.expect(demangle("_RNvC", &out) == null);
    try std.testing.expect(demangle("_RB0_", &out) == null);
    try std.testing.expect(demangle("_ZN3foo", &out) == null);
}
