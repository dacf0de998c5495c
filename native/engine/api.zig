//! The C ABI called by the bootstrap through ctypes.PyDLL (GIL held): start, stop, thread names,
//! last error. See docs/architecture.md.
const std = @import("std");
const raw = @import("raw.zig");
const session = @import("session.zig");
const header = @import("header.zig");
const record = @import("record.zig");
const modules = @import("modules.zig");
const sampler = @import("sampler.zig");
const pymalloc = @import("pymalloc.zig");
const code_table = @import("code_table.zig");
const thread_state = @import("thread_state.zig");
const walker = @import("walker");
const python_stack = @import("python_stack.zig");
const pending_names = @import("pending_names.zig");
const seq = @import("seq.zig");

var last_error: [256]u8 = [_]u8{0} ** 256;
var self_located = false;

fn fail(code: std.os.linux.E, comptime format: []const u8, arguments: anytype) c_int {
    const message = std.fmt.bufPrintZ(&last_error, format, arguments) catch blk: {
        last_error[last_error.len - 1] = 0;
        break :blk last_error[0 .. last_error.len - 1 :0];
    };
    std.debug.assert(message.len < last_error.len);
    const value: c_int = @intCast(@intFromEnum(code));
    std.debug.assert(value > 0);
    return value;
}

pub fn memrayd_start(output_path: ?[*:0]const u8, flags: u32, metadata_json: ?[*:0]const u8, python_hexversion: u64) callconv(.c) c_int {
    if (!thread_state.ready()) return fail(.NOSYS, "Cannot start tracking: the engine did not initialize (pthread key)", .{});
    if (session.disabled_forever) return fail(.PERM, "Cannot start tracking: this is a forked child of a tracked process", .{});
    if (session.started) return fail(.BUSY, "Cannot start tracking: tracking is already active", .{});
    const path = std.mem.span(output_path orelse return fail(.INVAL, "Cannot start tracking: no output path", .{}));
    if (path.len == 0 or path.len >= session.output_path_max_bytes) return fail(.NAMETOOLONG, "Cannot start tracking: bad output path length {d}", .{path.len});
    const metadata = if (metadata_json) |json| std.mem.span(json) else "{}";
    if (metadata.len >= session.metadata_max_bytes) return fail(.@"2BIG", "Cannot start tracking: metadata is {d} bytes", .{metadata.len});
    const state = thread_state.acquire() orelse return fail(.NOMEM, "Cannot start tracking: no memory for thread state", .{});
    const guard_before = state.guard;
    state.guard = true;
    defer state.guard = guard_before;

    @memcpy(session.output_path[0..path.len], path);
    session.output_path[path.len] = 0;
    session.output_path_len = path.len;
    @memcpy(session.metadata[0..metadata.len], metadata);
    session.metadata_len = metadata.len;
    session.flags = flags & 0b111;
    session.python_hexversion = python_hexversion;
    const err = openSession(state, 0);
    if (err != 0) return fail(@enumFromInt(err), "Cannot start tracking: cannot create {s} (errno {d})", .{ path, err });
    return 0;
}

/// Opens the file, writes the header and first records, starts the sampler, activates the hooks.
/// Used by start and by a follow-fork child (parent_pid != 0). Returns 0 or an errno.
pub fn openSession(state: *thread_state.ThreadState, parent_pid: u32) u16 {
    std.debug.assert(state.guard);
    std.debug.assert(!session.active.load(.monotonic));
    _ = session.epoch.fetchAdd(1, .acq_rel);
    session.seq_counter.store(0, .release);
    session.next_thread_id.store(1, .release);
    code_table.reset();
    modules.reset();
    const path: [*:0]const u8 = @ptrCast(&session.output_path);
    const err = session.file.open(path, header.sizeFor(session.metadata_len));
    if (err != 0) return err;
    session.start_time_ms = raw.nowEpochMs();
    session.sampler_writer = .{ .file = &session.file, .thread_id = session.sampler_writer.thread_id };
    session.python_frames = walker.init(session.python_hexversion);
    python_stack.init();
    const main_thread_id = record.joinSession(state);
    // The starting thread owns the counter until another thread records (seq.zig).
    seq.begin(main_thread_id);
    header.write(main_thread_id, parent_pid);
    if (session.nativeEnabled()) {
        if (!self_located) modules.locateSelf();
        self_located = true;
        modules.check(true);
    }
    if (session.flags & session.flag_trace_python_allocators != 0 and parent_pid == 0) {
        if (!pymalloc.install()) session.flags &= ~session.flag_trace_python_allocators;
    }
    _ = sampler.start();
    session.started = true;
    session.active.store(true, .release);
    return 0;
}

pub fn memrayd_stop() callconv(.c) c_int {
    if (!session.started) return 0;
    const state = thread_state.acquire();
    var guard_before = false;
    if (state) |s| {
        guard_before = s.guard;
        s.guard = true;
    }
    defer if (state) |s| {
        s.guard = guard_before;
    };
    session.active.store(false, .release);
    sampler.stop();
    if (session.nativeEnabled()) modules.check(false);
    pymalloc.restore();
    header.finalize();
    _ = session.file.close();
    session.started = false;
    std.debug.assert(!session.active.load(.monotonic));
    return 0;
}

pub fn memrayd_set_thread_name(name: ?[*:0]const u8) callconv(.c) void {
    const text = name orelse return;
    const state = record.enter() orelse return;
    record.recordThreadName(state, text);
    record.leave(state);
}

/// Names the thread whose pthread id (Python's `threading.get_ident()`) is `thread_ident`: at
/// once for the calling thread, else at that thread's next record. Returns 0, or EAGAIN when
/// too many names are waiting (the name is dropped).
pub fn memrayd_set_thread_name_for(thread_ident: u64, name: ?[*:0]const u8) callconv(.c) c_int {
    const text = name orelse return @intFromEnum(std.os.linux.E.INVAL);
    if (thread_ident == pending_names.self()) {
        memrayd_set_thread_name(text);
        return 0;
    }
    if (thread_ident == 0) return @intFromEnum(std.os.linux.E.INVAL);
    const state = thread_state.acquire() orelse return @intFromEnum(std.os.linux.E.NOMEM);
    // Guarded: nothing the engine does here is the program's allocation.
    const guard_before = state.guard;
    state.guard = true;
    defer state.guard = guard_before;
    const stored = pending_names.put(thread_ident, std.mem.span(text));
    std.debug.assert(state.guard);
    return if (stored) 0 else @intFromEnum(std.os.linux.E.AGAIN);
}

pub fn memrayd_last_error() callconv(.c) [*:0]const u8 {
    std.debug.assert(last_error[last_error.len - 1] == 0);
    return @ptrCast(&last_error);
}
