//! Function symbols of .symtab and .dynsym, sorted by address: the floor of symbolization (a
//! name without file or line) for modules without DWARF, or addresses DWARF does not cover.
const std = @import("std");
const assert = std.debug.assert;
const rd = @import("reader.zig");
const Elf = @import("elf.zig").Elf;

const stt_func: u8 = 2;
const stt_gnu_ifunc: u8 = 10;
const stb_local: u8 = 0;
/// Symbols before the nearest one that are examined for one containing the address (nested or
/// aliased symbols); beyond that the address is in no symbol.
const max_back_scan: usize = 64;

pub const Symbol = struct {
    address: u64,
    size_bytes: u64,
    name: []const u8,
    global: bool,

    fn before(_: void, a: Symbol, b: Symbol) bool {
        if (a.address != b.address) return a.address < b.address;
        if (a.global != b.global) return a.global;
        return a.size_bytes > b.size_bytes;
    }

    fn contains(s: Symbol, address: u64) bool {
        assert(s.address <= address);
        return address - s.address < s.size_bytes;
    }
};

pub const Symtab = struct {
    symbols: std.ArrayListUnmanaged(Symbol) = .empty,

    pub fn deinit(t: *Symtab, gpa: std.mem.Allocator) void {
        t.symbols.deinit(gpa);
        t.* = undefined;
    }

    /// Adds the function symbols of `elf`'s .symtab and .dynsym. Names point into the mapped
    /// file, which must outlive the table. A malformed table adds nothing and says so.
    pub fn addFrom(t: *Symtab, gpa: std.mem.Allocator, elf: *const Elf) error{OutOfMemory}!bool {
        var ok = true;
        for ([_][]const u8{ ".symtab", ".dynsym" }) |name| {
            const section = elf.find(name) orelse continue;
            addTable(t, gpa, elf, section) catch |err| switch (err) {
                error.OutOfMemory => return error.OutOfMemory,
                else => ok = false,
            };
        }
        return ok;
    }

    fn addTable(t: *Symtab, gpa: std.mem.Allocator, elf: *const Elf, section: anytype) !void {
        if (section.link >= elf.sections.len) return error.Corrupt;
        const strings = try elf.raw(&elf.sections[section.link]);
        const bytes = try elf.raw(section);
        if (section.entsize != 24) return error.Corrupt;
        const count = bytes.len / 24;
        try t.symbols.ensureUnusedCapacity(gpa, count);
        for (0..count) |index| {
            var r = rd.Reader.init(bytes[index * 24 ..][0..24]);
            const name_offset = try r.int(u32);
            const info = try r.byte();
            try r.skip(1);
            const shndx = try r.int(u16);
            const value = try r.int(u64);
            const size_bytes = try r.int(u64);
            const kind = info & 0xf;
            if (kind != stt_func and kind != stt_gnu_ifunc) continue;
            if (shndx == 0 or value == 0) continue;
            const name = rd.stringAt(strings, name_offset) catch continue;
            if (name.len == 0) continue;
            t.symbols.appendAssumeCapacity(.{
                .address = value,
                .size_bytes = size_bytes,
                .name = stripVersion(name),
                .global = (info >> 4) != stb_local,
            });
        }
    }

    pub fn sort(t: *Symtab) void {
        std.mem.sort(Symbol, t.symbols.items, {}, Symbol.before);
    }

    /// The function symbol containing `address`: the nearest one at or before it whose size
    /// covers it, or (for symbols of size 0) the nearest one.
    pub fn lookup(t: *const Symtab, address: u64) ?Symbol {
        const items = t.symbols.items;
        // First index whose address is greater than `address`.
        var low: usize = 0;
        var high: usize = items.len;
        while (low < high) {
            const middle = low + (high - low) / 2;
            if (items[middle].address <= address) low = middle + 1 else high = middle;
        }
        if (low == 0) return null;
        assert(items[low - 1].address <= address);
        const nearest = items[low - 1].address;
        var index = low;
        var fallback: ?Symbol = null;
        for (0..max_back_scan) |_| {
            if (index == 0) break;
            index -= 1;
            const symbol = items[index];
            if (symbol.contains(address)) {
                // Prefer the first (global, largest) symbol at the same address.
                var best = index;
                while (best > 0 and items[best - 1].address == symbol.address) best -= 1;
                return if (items[best].contains(address)) items[best] else symbol;
            }
            if (symbol.size_bytes == 0 and symbol.address == nearest) fallback = symbol;
        }
        return fallback;
    }
};

/// `name@VERSION` / `name@@VERSION` as written by some linkers into .symtab.
fn stripVersion(name: []const u8) []const u8 {
    const at = std.mem.indexOfScalar(u8, name, '@') orelse return name;
    return if (at == 0) name else name[0..at];
}

test "symtab: sizes respected, aliases and zero sizes" {
    const gpa = std.testing.allocator;
    var t: Symtab = .{};
    defer t.deinit(gpa);
    try t.symbols.appendSlice(gpa, &.{
        .{ .address = 0x1000, .size_bytes = 0x100, .name = "outer", .global = true },
        .{ .address = 0x1000, .size_bytes = 0x100, .name = "local_alias", .global = false },
        .{ .address = 0x1040, .size_bytes = 0x10, .name = "nested", .global = true },
        .{ .address = 0x2000, .size_bytes = 0x10, .name = "small", .global = true },
        .{ .address = 0x3000, .size_bytes = 0, .name = "unsized", .global = true },
    });
    t.sort();
    try std.testing.expectEqualStrings("outer", t.lookup(0x1000).?.name);
    try std.testing.expectEqualStrings("nested", t.lookup(0x1045).?.name);
    try std.testing.expectEqualStrings("outer", t.lookup(0x1050).?.name);
    try std.testing.expect(t.lookup(0x2010) == null);
    try std.testing.expect(t.lookup(0xfff) == null);
    try std.testing.expectEqualStrings("unsized", t.lookup(0x3004).?.name);
    try std.testing.expectEqualStrings("memcpy", stripVersion("memcpy@@GLIBC_2.14"));
}
