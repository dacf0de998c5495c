//! pthread_atfork handling. The forking thread is guarded across fork. In the child, without
//! follow_fork tracking is off for good; with it the child opens `<output>.<child pid>` (a
//! trailing `.<parent pid>` removed first) and starts a self-contained session.
const std = @import("std");
const raw = @import("raw.zig");
const session = @import("session.zig");
const sampler = @import("sampler.zig");
const thread_state = @import("thread_state.zig");
const api = @import("api.zig");
const pending_names = @import("pending_names.zig");
const seq = @import("seq.zig");

var guard_before: bool = false;
var parent_pid: u32 = 0;

pub fn prepare() callconv(.c) void {
    parent_pid = raw.getpid();
    const state = thread_state.current() orelse return;
    guard_before = state.guard;
    state.guard = true;
}

pub fn parent() callconv(.c) void {
    const state = thread_state.current() orelse return;
    std.debug.assert(state.guard);
    state.guard = guard_before;
}

pub fn child() callconv(.c) void {
    thread_state.resetAfterFork();
    sampler.forgetAfterFork();
    pending_names.resetAfterFork();
    seq.resetAfterFork();
    const state = thread_state.current();
    defer if (state) |s| {
        s.guard = guard_before;
    };
    if (!session.started) return;
    session.active.store(false, .release);
    // The parent's file stays the parent's: drop this process's descriptor, never truncate.
    if (session.file.fd >= 0) raw.close(session.file.fd);
    session.file = .{};
    session.started = false;
    if (session.flags & session.flag_follow_fork == 0) {
        session.disabled_forever = true;
        return;
    }
    const s = state orelse thread_state.acquire() orelse return;
    s.guard = true;
    childPath(parent_pid, raw.getpid());
    if (api.openSession(s, parent_pid) != 0) session.disabled_forever = true;
}

fn childPath(old_pid: u32, new_pid: u32) void {
    var suffix_storage: [16]u8 = undefined;
    const old_suffix = std.fmt.bufPrint(&suffix_storage, ".{d}", .{old_pid}) catch unreachable;
    var len = session.output_path_len;
    if (std.mem.endsWith(u8, session.output_path[0..len], old_suffix)) len -= old_suffix.len;
    const new_suffix = std.fmt.bufPrint(&suffix_storage, ".{d}", .{new_pid}) catch unreachable;
    if (len + new_suffix.len + 1 > session.output_path.len) return;
    @memcpy(session.output_path[len..][0..new_suffix.len], new_suffix);
    len += new_suffix.len;
    session.output_path[len] = 0;
    session.output_path_len = len;
    std.debug.assert(session.output_path[len] == 0);
}
