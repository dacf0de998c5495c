//! Recording of events by the thread that causes them: stack diffs, then the event record, all in
//! the thread's own chunk. Called by the hooks with the thread's guard set; never allocates.
const std = @import("std");
const libc = @import("libc.zig");
const raw = @import("raw.zig");
const session = @import("session.zig");
const encode = @import("encode.zig");
const thread_state = @import("thread_state.zig");
const python_stack = @import("python_stack.zig");
const native_stack = @import("native_stack.zig");
const pending_names = @import("pending_names.zig");
const chunk_writer = @import("chunk_writer.zig");
const ChunkWriter = chunk_writer.ChunkWriter;
const ThreadState = thread_state.ThreadState;

pub const Allocator = enum(u8) {
    malloc = 0x01,
    calloc = 0x02,
    realloc = 0x03,
    posix_memalign = 0x04,
    aligned_alloc = 0x05,
    memalign = 0x06,
    valloc = 0x07,
    pvalloc = 0x08,
    mmap = 0x09,
    pymalloc_malloc = 0x0A,
    pymalloc_calloc = 0x0B,
    pymalloc_realloc = 0x0C,
};

/// Kind codes of deallocation events (allocations use `Allocator`'s); how an event is encoded
/// is `ChunkWriter.putEventHead`'s business.
pub const Deallocator = enum(u8) {
    free = 0x11,
    munmap = 0x12,
    pymalloc_free = 0x13,
};

const type_thread_name: u8 = 0x31;
const type_thread_info: u8 = 0x32;
const event_size_max: u32 = chunk_writer.event_head_size_max + encode.max_varint_bytes;
const thread_name_max_bytes = 256;

/// Guards the calling thread for an event. Null: not tracking, or the engine itself is running
/// on this thread (its own allocations are never recorded), or no state could be made.
pub inline fn enter() ?*ThreadState {
    if (!session.active.load(.monotonic)) return null;
    const state = thread_state.acquire() orelse return null;
    if (state.guard) return null;
    state.guard = true;
    return state;
}

pub inline fn leave(state: *ThreadState) void {
    std.debug.assert(state.guard);
    std.debug.assert(!state.is_sampler);
    state.guard = false;
}

/// Brings the thread into the current session: an id, a fresh writer, empty stacks. Inlined: the
/// common case (same epoch, writer not failed, no pending names) is three loads and compares.
inline fn ensureSession(state: *ThreadState) ?*ChunkWriter {
    std.debug.assert(state.guard);
    if (state.epoch == session.epoch.load(.acquire) and !state.writer.failed and
        pending_names.count.load(.monotonic) == 0)
    {
        std.debug.assert(state.thread_id != 0);
        return &state.writer;
    }
    return ensureSessionSlow(state);
}

/// A thread new to the session, a failed writer, or a name waiting for this thread. Rare, so it
/// also keeps errno as it found it, though nothing here is known to set it: defence in depth for
/// the Python API call in `hasThreadState` on interpreters without the walker.
noinline fn ensureSessionSlow(state: *ThreadState) ?*ChunkWriter {
    std.debug.assert(state.guard);
    const saved_errno = libc.errnoGet();
    defer libc.errnoSet(saved_errno);
    const current_epoch = session.epoch.load(.acquire);
    if (state.epoch != current_epoch) {
        state.epoch = current_epoch;
        state.thread_id = session.next_thread_id.fetchAdd(1, .monotonic);
        state.writer = .{ .file = &session.file, .thread_id = state.thread_id };
        state.python_previous_len = 0;
        state.native_previous_len = 0;
        state.has_python_state = python_stack.hasThreadState();
        writeThreadInfo(&state.writer, state.has_python_state);
    }
    std.debug.assert(state.thread_id != 0);
    if (state.writer.failed) return null;
    if (pending_names.count.load(.monotonic) != 0) applyPendingName(&state.writer);
    return &state.writer;
}

/// origin 0: the thread has a Python thread state; 1: not (yet). A thread's first record comes
/// before its Python state exists when it allocates while starting, so THREAD_INFO is written
/// again, with origin 0, once it has one; readers keep the last.
fn writeThreadInfo(writer: *ChunkWriter, has_python_state: bool) void {
    var cursor = writer.reserve(2 + encode.max_varint_bytes, session.seqFloor()) orelse return;
    cursor.putByte(type_thread_info);
    cursor.putVarint(raw.gettid());
    cursor.putByte(if (has_python_state) 0 else 1);
    writer.commit(cursor);
}

/// A name another thread gave this one (memrayd_set_thread_name_for) is written now.
fn applyPendingName(writer: *ChunkWriter) void {
    var storage: [pending_names.name_max_bytes]u8 = undefined;
    const name = pending_names.take(pending_names.self(), &storage) orelse return;
    std.debug.assert(name.len <= thread_name_max_bytes);
    writeThreadName(writer, name);
}

fn writeThreadName(writer: *ChunkWriter, bytes: []const u8) void {
    std.debug.assert(bytes.len <= thread_name_max_bytes);
    var cursor = writer.reserve(@intCast(1 + encode.bytesSizeMax(bytes.len)), session.seqFloor()) orelse return;
    cursor.putByte(type_thread_name);
    cursor.putBytes(bytes);
    writer.commit(cursor);
}

// errno: the program must see the errno its allocator left. Of everything the record path calls,
// only libunwind (`native_stack.emit`) can set it, so only that call saves and restores it. The
// rest sets none: the Python walker is plain loads and pthread_getspecific (which reports errors
// by return value, never errno); chunk claims, file growth, gettid and lock yields are raw
// syscalls (std.os.linux returns -errno and never writes errno); pending_names uses pthread_self
// and raw-syscall locks. Rare slow paths (ensureSessionSlow) save it anyway.

/// Records a successful allocation with the thread's current stacks.
pub fn recordAlloc(state: *ThreadState, allocator: Allocator, addr: usize, size_bytes: usize) void {
    std.debug.assert(addr != 0 or allocator == .mmap);
    std.debug.assert(state.guard);
    const writer = ensureSession(state) orelse return;
    if (session.python_frames and !state.has_python_state and python_stack.hasThreadState()) {
        state.has_python_state = true;
        writeThreadInfo(writer, true);
    }
    if (session.python_frames) python_stack.emit(state, writer);
    if (session.nativeEnabled()) {
        const saved_errno = libc.errnoGet();
        defer libc.errnoSet(saved_errno);
        native_stack.emit(state, writer);
    }
    var cursor = writer.reserve(event_size_max, session.seqFloor()) orelse return;
    const seq = session.nextSeqFor(state.thread_id);
    writer.putEventHead(&cursor, @intFromEnum(allocator), seq, addr);
    cursor.putVarint(size_bytes);
    writer.commit(cursor);
}

/// Records a deallocation; called before the real deallocator runs.
pub fn recordFree(state: *ThreadState, deallocator: Deallocator, addr: usize, size_bytes: usize) void {
    std.debug.assert(addr != 0 or deallocator == .munmap);
    std.debug.assert(state.guard);
    const writer = ensureSession(state) orelse return;
    var cursor = writer.reserve(event_size_max, session.seqFloor()) orelse return;
    const seq = session.nextSeqFor(state.thread_id);
    writer.putEventHead(&cursor, @intFromEnum(deallocator), seq, addr);
    if (deallocator == .munmap) cursor.putVarint(size_bytes);
    writer.commit(cursor);
}

/// A sequence number for an event written later by `recordFreeAt` (0: not tracking this thread).
pub fn takeSeq(state: *ThreadState) u64 {
    std.debug.assert(state.guard);
    _ = ensureSession(state) orelse return 0;
    return session.nextSeqFor(state.thread_id);
}

/// Writes a FREE whose sequence number was taken earlier with `takeSeq`.
pub fn recordFreeAt(state: *ThreadState, addr: usize, seq: u64) void {
    writeFreeAt(state, .free, addr, seq);
}

pub fn recordPymallocFreeAt(state: *ThreadState, addr: usize, seq: u64) void {
    writeFreeAt(state, .pymalloc_free, addr, seq);
}

fn writeFreeAt(state: *ThreadState, deallocator: Deallocator, addr: usize, seq: u64) void {
    std.debug.assert(addr != 0);
    std.debug.assert(deallocator != .munmap);
    if (seq == 0) return;
    const writer = ensureSession(state) orelse return;
    // No record of this thread carries a larger seq yet, so seq - 1 is a valid chunk base.
    var cursor = writer.reserve(event_size_max, seq - 1) orelse return;
    writer.putEventHead(&cursor, @intFromEnum(deallocator), seq, addr);
    writer.commit(cursor);
}

/// Names the calling thread from here on (THREAD_NAME), truncated to 256 bytes.
pub fn recordThreadName(state: *ThreadState, name: [*:0]const u8) void {
    std.debug.assert(state.guard);
    const saved_errno = libc.errnoGet();
    defer libc.errnoSet(saved_errno);
    const writer = ensureSession(state) orelse return;
    const full = std.mem.span(name);
    writeThreadName(writer, full[0..@min(full.len, thread_name_max_bytes)]);
}

/// Gives the calling thread its id in the new session now (the starting thread is `main_thread_id`).
pub fn joinSession(state: *ThreadState) u32 {
    std.debug.assert(state.guard);
    _ = ensureSession(state);
    std.debug.assert(state.epoch == session.epoch.load(.monotonic));
    return state.thread_id;
}
