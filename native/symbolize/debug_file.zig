//! Where a module's separate debug file is: a path registered for its build-id at run time (a
//! debuginfod download), `<dir>/.build-id/xx/yyyy.debug` (and `<dir>/xx/yyyy.debug`) under each
//! debug directory, then `.gnu_debuglink` beside the module, in its `.debug/` and under each
//! debug directory (as GDB searches).
const std = @import("std");
const assert = std.debug.assert;

pub const max_path_bytes: usize = std.fs.max_path_bytes;

/// Calls `try_path` with each candidate in order until it returns true; returns that path (in
/// `buffer`) or null.
pub fn search(
    buffer: *[max_path_bytes]u8,
    module_path: []const u8,
    build_id: ?[]const u8,
    debuglink: ?[]const u8,
    debug_dirs: []const []const u8,
    context: anytype,
    comptime try_path: fn (@TypeOf(context), []const u8) bool,
) ?[]const u8 {
    assert(debug_dirs.len < 1024);
    if (build_id) |id| if (id.len >= 2 and id.len <= 64) {
        var hex_buffer: [128]u8 = undefined;
        const hex = std.fmt.bufPrint(&hex_buffer, "{x}", .{id}) catch unreachable;
        for (debug_dirs) |dir| {
            for ([_][]const u8{ "/.build-id/", "/" }) |middle| {
                const path = std.fmt.bufPrint(buffer, "{s}{s}{s}/{s}.debug", .{ dir, middle, hex[0..2], hex[2..] }) catch continue;
                if (try_path(context, path)) return path;
            }
        }
    };
    const link = debuglink orelse return null;
    if (std.mem.indexOfScalar(u8, link, '/') != null) return null; // a name, never a path
    const dir = std.fs.path.dirname(module_path) orelse ".";
    const beside = std.fmt.bufPrint(buffer, "{s}/{s}", .{ dir, link }) catch return null;
    // The module's own file may carry the link name (it is then not a separate file).
    if (!std.mem.eql(u8, beside, module_path) and try_path(context, beside)) return beside;
    if (std.fmt.bufPrint(buffer, "{s}/.debug/{s}", .{ dir, link })) |path| {
        if (try_path(context, path)) return path;
    } else |_| {}
    for (debug_dirs) |debug_dir| {
        const path = std.fmt.bufPrint(buffer, "{s}{s}/{s}", .{ debug_dir, dir, link }) catch continue;
        if (try_path(context, path)) return path;
    }
    return null;
}

test "debug_file: candidate order" {
    const Recorder = struct {
        seen: std.ArrayListUnmanaged(u8) = .empty,
        accept: []const u8,
        fn try_(self: *@This(), path: []const u8) bool {
            self.seen.appendSlice(std.testing.allocator, path) catch return false;
            self.seen.append(std.testing.allocator, '\n') catch return false;
            return std.mem.eql(u8, path, self.accept);
        }
    };
    var buffer: [max_path_bytes]u8 = undefined;
    var recorder = Recorder{ .accept = "/dbg/usr/lib/libx.so.debug" };
    defer recorder.seen.deinit(std.testing.allocator);
    const found = search(&buffer, "/usr/lib/libx.so", &.{ 0xab, 0xcd, 0xef }, "libx.so.debug", &.{"/dbg"}, &recorder, Recorder.try_);
    try std.testing.expectEqualStrings("/dbg/usr/lib/libx.so.debug", found.?);
    try std.testing.expectEqualStrings(
        "/dbg/.build-id/ab/cdef.debug\n/dbg/ab/cdef.debug\n/usr/lib/libx.so.debug\n/usr/lib/.debug/libx.so.debug\n/dbg/usr/lib/libx.so.debug\n",
        recorder.seen.items,
    );
}
