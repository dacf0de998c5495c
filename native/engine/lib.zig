//! libmemrayd.so: the capture engine preloaded into the profiled Python process. This root file
//! exports the interposed functions and the C ABI, and runs the constructor that resolves the
//! real allocator and restores the user's environment before the program reads it.
const std = @import("std");
const libc = @import("libc.zig");
const raw = @import("raw.zig");
const hooks = @import("hooks.zig");
const api = @import("api.zig");
const fork = @import("fork.zig");
const thread_state = @import("thread_state.zig");

comptime {
    @export(&hooks.malloc, .{ .name = "malloc" });
    @export(&hooks.calloc, .{ .name = "calloc" });
    @export(&hooks.realloc, .{ .name = "realloc" });
    @export(&hooks.free, .{ .name = "free" });
    @export(&hooks.posix_memalign, .{ .name = "posix_memalign" });
    @export(&hooks.aligned_alloc, .{ .name = "aligned_alloc" });
    @export(&hooks.memalign, .{ .name = "memalign" });
    @export(&hooks.valloc, .{ .name = "valloc" });
    @export(&hooks.pvalloc, .{ .name = "pvalloc" });
    @export(&hooks.mmap, .{ .name = "mmap" });
    @export(&hooks.mmap64, .{ .name = "mmap64" });
    @export(&hooks.munmap, .{ .name = "munmap" });
    @export(&hooks.prctl, .{ .name = "prctl" });
    @export(&api.memrayd_start, .{ .name = "memrayd_start" });
    @export(&api.memrayd_stop, .{ .name = "memrayd_stop" });
    @export(&api.memrayd_set_thread_name, .{ .name = "memrayd_set_thread_name" });
    @export(&api.memrayd_set_thread_name_for, .{ .name = "memrayd_set_thread_name_for" });
    @export(&api.memrayd_last_error, .{ .name = "memrayd_last_error" });
    @export(&init_array_entry, .{ .name = "memrayd_init_array_entry", .visibility = .hidden });
}

const init_array_entry: *const fn () callconv(.c) void linksection(".init_array") = &constructor;

const env_prefix = "MEMRAYD_";
const env_unset_max = 64;

fn constructor() callconv(.c) void {
    hooks.resolve();
    if (!thread_state.ready()) _ = thread_state.init();
    _ = libc.pthread_atfork(fork.prepare, fork.parent, fork.child);
    restoreEnvironment();
}

/// Children must not inherit the profiler unless --follow-fork asks for it, and the program must
/// see its own environment: restore LD_PRELOAD, then drop every MEMRAYD_* variable. With
/// --follow-fork everything stays, so that programs this one execs (Python or not) pass the
/// profiler and the follow settings on to their Python descendants (docs/architecture.md).
fn restoreEnvironment() void {
    const follow = libc.getenv("MEMRAYD_FOLLOW_FORK");
    if (follow != null and std.mem.eql(u8, std.mem.span(follow.?), "1")) {
        forgetForkHalfCapture();
        return;
    }
    if (libc.getenv("MEMRAYD_PRELOAD_RESTORE")) |restore| {
        if (restore[0] == 0) {
            _ = libc.unsetenv("LD_PRELOAD");
        } else {
            _ = libc.setenv("LD_PRELOAD", restore, 1);
        }
    }
    var name_storage: [256]u8 = undefined;
    var removed: u32 = 0;
    while (removed < env_unset_max) : (removed += 1) {
        const name = findPrefixed(&name_storage) orelse break;
        _ = libc.unsetenv(name);
    }
    std.debug.assert(removed <= env_unset_max);
    std.debug.assert(libc.getenv("MEMRAYD_FOLLOW_FORK") == null);
}

/// A process that a followed process forked and that then exec'd arrives here with the file its
/// fork half opened, `<MEMRAYD_FOLLOW_OUTPUT>.<pid>`, holding a header and no finished session.
/// This new image records only if it is Python (its start hook then creates the file afresh),
/// so the fork half's file is removed: a non-Python child leaves no capture behind.
fn forgetForkHalfCapture() void {
    const output = libc.getenv("MEMRAYD_FOLLOW_OUTPUT") orelse return;
    const output_bytes = std.mem.span(output);
    if (output_bytes.len == 0 or output_bytes[0] != '/') return;
    var path_storage: [4096 + 16]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_storage, "{s}.{d}", .{ output_bytes, raw.getpid() }) catch return;
    std.debug.assert(path.len > output_bytes.len);
    std.debug.assert(path[path.len] == 0);
    // ENOENT is the usual case (a vfork child or a plain exec); any other failure changes nothing.
    _ = std.os.linux.unlink(path.ptr);
}

fn findPrefixed(storage: *[256]u8) ?[*:0]const u8 {
    const environ = libc.environ orelse return null;
    var index: usize = 0;
    while (environ[index]) |entry| : (index += 1) {
        const text = std.mem.span(entry);
        if (!std.mem.startsWith(u8, text, env_prefix)) continue;
        const name_len = std.mem.indexOfScalar(u8, text, '=') orelse text.len;
        if (name_len >= storage.len) continue;
        @memcpy(storage[0..name_len], text[0..name_len]);
        storage[name_len] = 0;
        return @ptrCast(storage);
    }
    return null;
}
