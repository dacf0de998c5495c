//! Per-thread engine state, reached through a pthread key (not Zig `threadlocal`: TLS of a
//! dlopen'd library may call malloc). State memory comes from raw mmap and is recycled through a
//! bounded free list after thread exit.
const std = @import("std");
const libc = @import("libc.zig");
const raw = @import("raw.zig");
const capture_file = @import("capture_file.zig");
const ChunkWriter = @import("chunk_writer.zig").ChunkWriter;
const walker = @import("walker");

pub const python_depth_max = 512;
pub const native_depth_max = 256;
pub const code_scratch_bytes = 16 * 1024;

/// Raw frames one walk visits at most (walker.rawFramesFor: shims and skipped frames included).
pub const python_raw_max = walker.rawFramesFor(python_depth_max);

pub const code_cache_slots = 64;

/// A code id this thread got from code_table in session `epoch`, for the code object at `code`
/// whose walker identity was `identity` (python_stack.zig).
pub const CodeCacheEntry = struct {
    code: usize,
    identity: u64,
    code_id: u32,
    epoch: u32,
};

/// A frame pushed by the current PY_STACK diff, converted and interned.
pub const PyPush = struct {
    code_id: u32,
    instr_offset_bytes: i32,
    is_entry: bool,
};

/// Slots of the per-chunk cache of recent top Python frames (PY_TOP records, python_stack.zig).
pub const py_top_slots = 16;

/// The recent top frames of the thread's current chunk, most recent first. Valid only for the
/// chunk it names: (epoch, chunk_index) of another chunk reads as an empty cache, as the format
/// resets it at every chunk start.
pub const PyTopCache = struct {
    frames: [py_top_slots]PyPush,
    len: u8,
    epoch: u32,
    chunk_index: u32,
};

pub const ThreadState = struct {
    /// Set while the engine (or a real allocator called by a hook) runs on this thread:
    /// events arriving meanwhile are the engine's own and are not recorded.
    guard: bool,
    /// Permanently guarded (the sampler thread).
    is_sampler: bool,
    /// glibc runs key destructors up to 4 rounds; the state is kept alive for the first rounds
    /// so that frees made by other keys' destructors are still recorded.
    destructor_rounds: u8,
    /// The session this state's ids, chunk and stacks belong to.
    epoch: u32,
    thread_id: u32,
    /// THREAD_INFO with origin 0 was written in this session (see record.writeThreadInfo).
    has_python_state: bool,
    os_tid: u32,
    writer: ChunkWriter,
    /// The raw frames of the stack written last, OUTERMOST first (python_stack.zig).
    python_previous: [python_raw_max]walker.RawFrame,
    /// Raw frames in python_previous; 0 (empty) at a session start.
    python_previous_len: u32,
    /// The last full walk found the stack unchanged: the next record tries the comparing walk
    /// first (python_stack.zig). A speed hint only; either value records the same stacks.
    python_last_unchanged: bool,
    /// python_kept_below[i]: reported frames among python_previous[0..i]; [0] is always 0.
    python_kept_below: [python_raw_max + 1]u16,
    /// The current walk, innermost first.
    python_scratch: [python_raw_max]walker.RawFrame,
    python_pushes: [python_depth_max]PyPush,
    python_top: PyTopCache,
    /// Direct-mapped by code address; entries of older sessions are ignored (epoch).
    code_cache: [code_cache_slots]CodeCacheEntry,
    /// Strings of a CODE record that the walker has to re-encode as UTF-8.
    code_scratch: [code_scratch_bytes]u8,
    native_previous: [native_depth_max]u64,
    native_previous_len: u32,
    native_scratch: [native_depth_max]?*anyopaque,
    next_free: ?*ThreadState,
};

/// The state starts this far into its mapping. At offset 0 its hot first lines (guard, epoch,
/// writer) would share L1 set 0 with every page- and pool-aligned line of the program: all of
/// pymalloc's pool headers (16 KiB aligned, touched at every object malloc/free) and our chunk
/// headers. With 12 ways, a few more lines there evict pool headers (perf: `_PyObject_Malloc`
/// and `_PyObject_Free` ~1.5x their samples under the engine). An odd line index in mid-page
/// keeps the state's lines in sets nothing else aligned uses.
const state_offset_bytes: usize = 37 * 64;
const state_size_bytes = std.mem.alignForward(usize, state_offset_bytes + @sizeOf(ThreadState), raw.page_size_bytes);

comptime {
    std.debug.assert(state_offset_bytes % 64 == 0);
    std.debug.assert(state_offset_bytes < raw.page_size_bytes);
}
const free_list_max = 64;

var key: libc.pthread_key_t = 0;
var key_ready = false;
var free_list: ?*ThreadState = null;
var free_list_len: u32 = 0;
var free_list_lock: std.atomic.Value(u32) = .init(0);

/// Creates the key. The key must be below glibc's first-level size (32) so that
/// pthread_setspecific never allocates (an allocation there would re-enter the hooks).
pub fn init() bool {
    std.debug.assert(!key_ready);
    if (libc.pthread_key_create(&key, destructor) != 0) return false;
    key_ready = key < 32;
    return key_ready;
}

pub fn ready() bool {
    return key_ready;
}

/// The calling thread's state, if it has one.
pub inline fn current() ?*ThreadState {
    std.debug.assert(key_ready);
    return @ptrCast(@alignCast(libc.pthread_getspecific(key)));
}

/// The calling thread's state, created on first use. Null only if memory is exhausted.
/// Inlined into every hook: the common case is one pthread_getspecific.
pub inline fn acquire() ?*ThreadState {
    std.debug.assert(key_ready);
    if (current()) |state| return state;
    return create();
}

/// The first event of a thread (or one after its destructor ran): a fresh or recycled state.
noinline fn create() ?*ThreadState {
    std.debug.assert(key_ready);
    std.debug.assert(current() == null);
    const os_tid = raw.gettid();
    var reused_own = false;
    const state = popFree(os_tid, &reused_own) orelse blk: {
        const memory = raw.mapAnonymous(state_size_bytes) orelse return null;
        break :blk @as(*ThreadState, @ptrCast(@alignCast(memory + state_offset_bytes)));
    };
    // A thread allocating after its own destructor ran (glibc's exit path frees after the last
    // key round) gets its old state back: same thread id, same chunk, same stacks.
    if (!reused_own) resetState(state);
    state.os_tid = os_tid;
    state.guard = false;
    if (libc.pthread_setspecific(key, state) != 0) {
        pushFree(state);
        return null;
    }
    return state;
}

fn resetState(state: *ThreadState) void {
    // Only the header fields need values; the stack arrays are bounded by their lengths.
    state.guard = false;
    state.is_sampler = false;
    state.destructor_rounds = 0;
    state.epoch = 0;
    state.thread_id = 0;
    state.has_python_state = false;
    state.writer = undefined;
    state.python_previous_len = 0;
    state.python_last_unchanged = true;
    state.python_kept_below[0] = 0;
    // Epoch 0 is never a session's: the cache reads as empty.
    state.python_top.epoch = 0;
    state.python_top.len = 0;
    // Epoch 0 is never a session's (the first session is 1): every entry reads as empty.
    @memset(&state.code_cache, .{ .code = 0, .identity = 0, .code_id = 0, .epoch = 0 });
    state.native_previous_len = 0;
    state.next_free = null;
}

fn destructor(value: ?*anyopaque) callconv(.c) void {
    const state: *ThreadState = @ptrCast(@alignCast(value orelse return));
    std.debug.assert(!state.guard or state.is_sampler);
    if (state.destructor_rounds < 3) {
        // Keep recording for frees done by destructors of other keys in later rounds.
        state.destructor_rounds += 1;
        _ = libc.pthread_setspecific(key, state);
        return;
    }
    pushFree(state);
}

/// Pops this thread's own exited state if it is listed, else the most recent one.
fn popFree(os_tid: u32, reused_own: *bool) ?*ThreadState {
    capture_file.lock(&free_list_lock);
    defer capture_file.unlock(&free_list_lock);
    var link: *?*ThreadState = &free_list;
    var scanned: u32 = 0;
    while (link.*) |candidate| : (scanned += 1) {
        std.debug.assert(scanned < free_list_max);
        if (candidate.os_tid == os_tid) {
            link.* = candidate.next_free;
            free_list_len -= 1;
            reused_own.* = true;
            return candidate;
        }
        link = &candidate.next_free;
    }
    const state = free_list orelse return null;
    std.debug.assert(free_list_len > 0);
    free_list = state.next_free;
    free_list_len -= 1;
    return state;
}

fn pushFree(state: *ThreadState) void {
    capture_file.lock(&free_list_lock);
    if (free_list_len < free_list_max) {
        state.next_free = free_list;
        free_list = state;
        free_list_len += 1;
        capture_file.unlock(&free_list_lock);
        return;
    }
    capture_file.unlock(&free_list_lock);
    const memory: [*]u8 = @ptrCast(state);
    std.debug.assert(@intFromPtr(memory) % raw.page_size_bytes == state_offset_bytes);
    raw.unmap(memory - state_offset_bytes, state_size_bytes);
}

/// In a forked child: the parent's other threads are gone and so is the free-list lock holder.
pub fn resetAfterFork() void {
    free_list_lock.store(0, .release);
    std.debug.assert(free_list_len <= free_list_max);
}
