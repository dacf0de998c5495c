//! Interned strings (function and file names) with dense ids: the batch API returns ids, and
//! the caller fetches each new string once.
const std = @import("std");
const assert = std.debug.assert;

/// Total bytes of interned text; past it new strings are refused (the caller sees "?").
const max_total_bytes: usize = 1 << 30;

pub const Strings = struct {
    arena: std.heap.ArenaAllocator,
    ids: std.StringHashMapUnmanaged(u32) = .empty,
    list: std.ArrayListUnmanaged([]const u8) = .empty,
    total_bytes: usize = 0,

    pub fn init(gpa: std.mem.Allocator) error{OutOfMemory}!Strings {
        var s = Strings{ .arena = .init(gpa) };
        // Id 0 is the empty string: "unknown" needs no allocation.
        _ = try s.intern(gpa, "");
        assert(s.list.items.len == 1);
        return s;
    }

    pub fn deinit(s: *Strings, gpa: std.mem.Allocator) void {
        s.ids.deinit(gpa);
        s.list.deinit(gpa);
        s.arena.deinit();
        s.* = undefined;
    }

    pub fn intern(s: *Strings, gpa: std.mem.Allocator, text: []const u8) error{OutOfMemory}!u32 {
        if (s.ids.get(text)) |id| return id;
        if (s.total_bytes + text.len > max_total_bytes) return error.OutOfMemory;
        const copy = try s.arena.allocator().dupe(u8, text);
        const id: u32 = @intCast(s.list.items.len);
        try s.list.append(gpa, copy);
        errdefer _ = s.list.pop();
        try s.ids.put(gpa, copy, id);
        s.total_bytes += text.len;
        assert(std.mem.eql(u8, s.list.items[id], text));
        return id;
    }

    pub fn count(s: *const Strings) u32 {
        return @intCast(s.list.items.len);
    }
};

test "strings: ids are dense and stable" {
    const gpa = std.testing.allocator;
    var s = try Strings.init(gpa);
    defer s.deinit(gpa);
    try std.testing.expectEqual(@as(u32, 1), try s.intern(gpa, "main"));
    try std.testing.expectEqual(@as(u32, 2), try s.intern(gpa, "a.c"));
    try std.testing.expectEqual(@as(u32, 1), try s.intern(gpa, "main"));
    try std.testing.expectEqual(@as(u32, 0), try s.intern(gpa, ""));
    try std.testing.expectEqual(@as(u32, 3), s.count());
}
