//! A report's symbolizer: the modules opened so far (each once), interned names, and the frames
//! of every address already asked for. Memory is bounded: past max_cached_frames the address
//! cache starts over (modules and strings stay, so ids handed out remain valid).
const std = @import("std");
const assert = std.debug.assert;
const Module = @import("module.zig").Module;
const dwarf = @import("dwarf.zig");
const demangle = @import("demangle.zig");
const Strings = @import("strings.zig").Strings;

const max_cached_frames: usize = 1 << 22;
const max_modules: usize = 1 << 16;
pub const flag_inlined: u32 = 1;
/// The name came from the symbol table (no DWARF scope), so the line may be from a caller.
pub const flag_symbol_only: u32 = 2;

/// One output frame: ids into `strings`.
pub const Frame = struct { function: u32, file: u32, line: u32, flags: u32 };

const Key = struct { module: u32, address: u64 };
const Span = struct { start: u32, count: u32 };

pub const Symbolizer = struct {
    gpa: std.mem.Allocator,
    debug_dirs: std.ArrayListUnmanaged([]const u8) = .empty,
    registered: std.StringHashMapUnmanaged([]const u8) = .empty,
    modules: std.ArrayListUnmanaged(*Module) = .empty,
    strings: Strings,
    cache: std.AutoHashMapUnmanaged(Key, Span) = .empty,
    frames: std.ArrayListUnmanaged(Frame) = .empty,

    pub fn create(gpa: std.mem.Allocator, debug_dirs: []const []const u8) error{OutOfMemory}!*Symbolizer {
        const s = try gpa.create(Symbolizer);
        errdefer gpa.destroy(s);
        s.* = .{ .gpa = gpa, .strings = try Strings.init(gpa) };
        errdefer s.destroy();
        for (debug_dirs) |dir| {
            if (dir.len == 0) continue;
            try s.debug_dirs.append(gpa, try gpa.dupe(u8, std.mem.trimRight(u8, dir, "/")));
        }
        try s.debug_dirs.append(gpa, try gpa.dupe(u8, "/usr/lib/debug"));
        assert(s.debug_dirs.items.len >= 1);
        return s;
    }

    pub fn destroy(s: *Symbolizer) void {
        const gpa = s.gpa;
        for (s.modules.items) |m| m.close();
        s.modules.deinit(gpa);
        for (s.debug_dirs.items) |dir| gpa.free(dir);
        s.debug_dirs.deinit(gpa);
        var it = s.registered.iterator();
        while (it.next()) |entry| {
            gpa.free(entry.key_ptr.*);
            gpa.free(entry.value_ptr.*);
        }
        s.registered.deinit(gpa);
        s.cache.deinit(gpa);
        s.frames.deinit(gpa);
        s.strings.deinit(gpa);
        gpa.destroy(s);
    }

    /// Registers a debug file for a build-id (used by modules opened afterwards).
    pub fn addDebugFile(s: *Symbolizer, build_id: []const u8, path: []const u8) error{OutOfMemory}!void {
        assert(build_id.len > 0);
        const hex = try std.fmt.allocPrint(s.gpa, "{x}", .{build_id});
        errdefer s.gpa.free(hex);
        const copy = try s.gpa.dupe(u8, path);
        errdefer s.gpa.free(copy);
        const entry = try s.registered.getOrPut(s.gpa, hex);
        if (entry.found_existing) {
            s.gpa.free(hex);
            s.gpa.free(entry.value_ptr.*);
        }
        entry.value_ptr.* = copy;
        // A module opened before its debug file arrived (debuginfod runs after the first look)
        // is opened again in place; its cached addresses go with the whole cache.
        for (s.modules.items) |*slot| {
            const m = slot.*;
            if (m.hasDebugInfo()) continue;
            const own = m.build_id orelse continue;
            if (!std.mem.eql(u8, own, build_id)) continue;
            const reopened = try Module.open(s.gpa, m.path, build_id, .{ .debug_dirs = s.debug_dirs.items, .registered = &s.registered });
            m.close();
            slot.* = reopened;
            s.cache.clearRetainingCapacity();
            s.frames.clearRetainingCapacity();
        }
    }

    /// The index of the module for (path, build-id), opening it the first time.
    pub fn openModule(s: *Symbolizer, path: []const u8, build_id: []const u8) error{ OutOfMemory, TooMany }!u32 {
        for (s.modules.items, 0..) |m, index| {
            if (std.mem.eql(u8, m.path, path)) return @intCast(index);
        }
        if (s.modules.items.len >= max_modules) return error.TooMany;
        const m = try Module.open(s.gpa, path, build_id, .{ .debug_dirs = s.debug_dirs.items, .registered = &s.registered });
        errdefer m.close();
        try s.modules.append(s.gpa, m);
        return @intCast(s.modules.items.len - 1);
    }

    /// The frames of `address` in module `index`: cached, else resolved and cached. The slice is
    /// valid until the next call.
    pub fn symbolize(s: *Symbolizer, index: u32, address: u64) error{OutOfMemory}![]const Frame {
        assert(index < s.modules.items.len);
        const key = Key{ .module = index, .address = address };
        if (s.cache.get(key)) |span| return s.frames.items[span.start..][0..span.count];
        if (s.frames.items.len >= max_cached_frames) {
            s.cache.clearRetainingCapacity();
            s.frames.clearRetainingCapacity();
        }
        var raw: [dwarf.max_frames]dwarf.RawFrame = undefined;
        const count = try s.modules.items[index].frames(address, &raw);
        const start: u32 = @intCast(s.frames.items.len);
        if (count == 0) {
            try s.frames.append(s.gpa, .{ .function = 0, .file = 0, .line = 0, .flags = 0 });
        } else {
            var buffer: [demangle.max_name_bytes]u8 = undefined;
            for (raw[0..count], 0..) |frame, position| {
                const name = frame.name orelse "";
                const only_symbol = position == count - 1 and count == 1 and frame.file.len == 0;
                try s.frames.append(s.gpa, .{
                    .function = try s.strings.intern(s.gpa, demangle.demangle(name, &buffer)),
                    .file = try s.strings.intern(s.gpa, frame.file),
                    .line = frame.line,
                    .flags = (if (frame.inlined) flag_inlined else 0) | (if (only_symbol) flag_symbol_only else 0),
                });
            }
        }
        const span = Span{ .start = start, .count = @intCast(s.frames.items.len - start) };
        try s.cache.put(s.gpa, key, span);
        assert(span.count >= 1);
        return s.frames.items[span.start..][0..span.count];
    }
};
