//! PY_STACK diffs: the thread's Python stack compared with the one written before, from the
//! outermost frame; then pops of the old top and pushes of the new frames (outermost first).
//! A diff that only replaces the top frame (the same function at another instruction: most diffs
//! under --trace-python-allocators) is written as PY_TOP: one byte naming a slot of the chunk's
//! cache of recent top frames, or an offset delta against the most recent one.
//! Code objects are interned on push; the inserting thread writes the CODE record.
const std = @import("std");
const walker = @import("walker");
const encode = @import("encode.zig");
const session = @import("session.zig");
const code_table = @import("code_table.zig");
const capture_file = @import("capture_file.zig");
const thread_state = @import("thread_state.zig");
const ChunkWriter = @import("chunk_writer.zig").ChunkWriter;
const ThreadState = thread_state.ThreadState;

const type_py_stack: u8 = 0x20;
/// PY_TOP_HIT: `type_py_top_hit + slot`, slot < py_top_slots, no body.
const type_py_top_hit: u8 = 0x00;
/// PY_TOP_DELTA: svarint offset delta against the cache's slot 0.
const type_py_top_delta: u8 = 0x10;
const py_top_slots = thread_state.py_top_slots;
const PyPush = thread_state.PyPush;
const PyTopCache = thread_state.PyTopCache;
const type_code: u8 = 0x30;
const frame_size_max = 2 * encode.max_varint_bytes;
const overflow_name = "<memray-deno: code table full>";

comptime {
    // Hit type bytes end right below PY_TOP_DELTA.
    std.debug.assert(type_py_top_hit + py_top_slots == type_py_top_delta);
    std.debug.assert(py_top_slots <= std.math.maxInt(u8));
    // A full-depth diff must fit one chunk.
    std.debug.assert(1 + 2 * encode.max_varint_bytes + thread_state.python_depth_max * frame_size_max <
        capture_file.chunk_payload_size_bytes);
    // Reported-frame counts are kept in u16.
    std.debug.assert(thread_state.python_raw_max < std.math.maxInt(u16));
}

/// Writes the change of the thread's Python stack since its previous record, if any. The hot
/// path (nothing changed below the top frames) is one walk of raw frames and a two-word compare
/// per frame from the outermost one; only frames that changed are filtered, converted and interned.
pub fn emit(state: *ThreadState, writer: *ChunkWriter) void {
    std.debug.assert(state.guard);
    std.debug.assert(state.python_previous_len <= thread_state.python_raw_max);
    const previous = &state.python_previous;
    const previous_len = state.python_previous_len;
    // The common case: the stack is the one written last (a loop allocating at one line). One
    // comparing walk that stores nothing; a stack that was cut (deeper than reported) never
    // matches here and takes the full path below. No thread chain: an empty stack.
    // Tried only while the last record found its stack unchanged: where the top frame moves at
    // every record (--trace-python-allocators: the pymalloc calls of one line after another)
    // the comparing walk would fail at once and cost ~40 instructions a record for nothing.
    const thread = walker.currentThread();
    if (thread) |frames| {
        const stack = previous[0..previous_len];
        if (state.python_last_unchanged and walker.sameFrames(frames, stack)) return;
    } else if (previous_len == 0) return;
    const scratch = &state.python_scratch;
    const walked: u32 = if (thread) |frames| @intCast(walker.walkFrames(frames, scratch)) else 0;
    std.debug.assert(walked <= scratch.len);
    // Deeper than the reported maximum: drop outermost frames (as a bounded walk would).
    const depth = if (walked > thread_state.python_depth_max) cutToReported(scratch, walked) else walked;

    // scratch is innermost first; previous is outermost first.
    var common: u32 = 0;
    while (common < depth and common < previous_len) : (common += 1) {
        if (!scratch[depth - 1 - common].eql(&previous[common])) break;
    }
    state.python_last_unchanged = common == depth and common == previous_len;
    if (state.python_last_unchanged) return;

    // Frames below `common` report as before: each depends only on itself and its caller.
    const kept_below = &state.python_kept_below;
    std.debug.assert(kept_below[0] == 0);
    const kept_common: u32 = kept_below[common];
    const pops: u32 = kept_below[previous_len] - kept_common;
    var kept = kept_common;
    var index = common;
    while (index < depth) : (index += 1) {
        const raw = &scratch[depth - 1 - index];
        // The caller of the outermost frame is there only when the stack was cut.
        const caller: ?*const walker.RawFrame = if (depth - index < walked) &scratch[depth - index] else null;
        previous[index] = raw.*;
        kept_below[index] = @intCast(kept);
        const frame = walker.frameOf(raw, caller) orelse continue;
        std.debug.assert(kept < thread_state.python_depth_max);
        state.python_pushes[kept - kept_common] = .{
            .code_id = codeId(state, writer, frame.code),
            .instr_offset_bytes = frame.instr_offset_bytes,
            .is_entry = frame.is_entry,
        };
        kept += 1;
    }
    kept_below[depth] = @intCast(kept);
    state.python_previous_len = depth;
    const pushes = kept - kept_common;
    // Only skipped frames (shims, incomplete frames) changed: the reported stack is the same.
    if (pops == 0 and pushes == 0) return;

    const size = 1 + 2 * encode.max_varint_bytes + pushes * frame_size_max;
    var cursor = writer.reserve(size, session.seqFloor()) orelse return;
    // Only now is the record's chunk known: reserve may have opened a new one.
    const top = topCache(state, writer);
    if (pops == 1 and pushes == 1) {
        putTop(&cursor, top, state.python_pushes[0]);
    } else {
        putStack(&cursor, top, pops, state.python_pushes[0..pushes]);
    }
    writer.commit(cursor);
}

/// A general PY_STACK record. Its last pushed frame, if any, enters the top cache.
fn putStack(cursor: *encode.Cursor, top: *PyTopCache, pops: u32, pushes: []const PyPush) void {
    std.debug.assert(pops > 0 or pushes.len > 0);
    std.debug.assert(pushes.len <= thread_state.python_depth_max);
    cursor.putByte(type_py_stack);
    cursor.putVarint(pops);
    cursor.putVarint(pushes.len);
    for (pushes) |push| {
        cursor.putVarint((@as(u64, push.code_id) << 1) | @intFromBool(push.is_entry));
        cursor.putSvarint(push.instr_offset_bytes);
    }
    if (pushes.len > 0) topInsert(top, pushes[pushes.len - 1]);
}

/// Replaces the top frame with `frame`: a cache hit (one byte), else a delta against the most
/// recent top frame when it is the same code (a new instruction in the same function), else a
/// general record of one pop and one push.
fn putTop(cursor: *encode.Cursor, top: *PyTopCache, frame: PyPush) void {
    std.debug.assert(frame.code_id != 0);
    std.debug.assert(top.len <= py_top_slots);
    var slot: u8 = 0;
    while (slot < top.len) : (slot += 1) {
        if (pushEql(&top.frames[slot], &frame)) {
            cursor.putByte(type_py_top_hit + slot);
            // Move to front: the slots before it shift down by one.
            var index = slot;
            while (index > 0) : (index -= 1) top.frames[index] = top.frames[index - 1];
            top.frames[0] = frame;
            return;
        }
    }
    const recent = &top.frames[0];
    if (top.len > 0 and recent.code_id == frame.code_id and recent.is_entry == frame.is_entry) {
        cursor.putByte(type_py_top_delta);
        cursor.putSvarint(@as(i64, frame.instr_offset_bytes) - recent.instr_offset_bytes);
        topInsert(top, frame);
    } else {
        putStack(cursor, top, 1, &.{frame});
    }
    std.debug.assert(pushEql(&top.frames[0], &frame));
}

/// `frame` enters slot 0; every slot shifts down and a full cache drops its last.
fn topInsert(top: *PyTopCache, frame: PyPush) void {
    std.debug.assert(top.len <= py_top_slots);
    const kept: u8 = @min(top.len, py_top_slots - 1);
    var index = kept;
    while (index > 0) : (index -= 1) top.frames[index] = top.frames[index - 1];
    top.frames[0] = frame;
    top.len = kept + 1;
    std.debug.assert(top.len >= 1 and top.len <= py_top_slots);
}

/// The thread's top cache for the chunk `writer` writes into, emptied when that chunk (or the
/// session) is not the one the cache was filled in: readers reset it at every chunk start.
fn topCache(state: *ThreadState, writer: *const ChunkWriter) *PyTopCache {
    std.debug.assert(state.epoch != 0);
    std.debug.assert(writer.next_chunk_index > 0); // reserve succeeded: a chunk is open.
    const top = &state.python_top;
    if (top.epoch != state.epoch or top.chunk_index != writer.next_chunk_index) {
        top.epoch = state.epoch;
        top.chunk_index = writer.next_chunk_index;
        top.len = 0;
    }
    return top;
}

fn pushEql(a: *const PyPush, b: *const PyPush) bool {
    return a.code_id == b.code_id and a.instr_offset_bytes == b.instr_offset_bytes and
        a.is_entry == b.is_entry;
}

/// The raw depth, from the innermost frame, that holds at most python_depth_max reported frames.
/// Runs only for stacks deeper than that (rare), so it may convert every frame.
fn cutToReported(scratch: []const walker.RawFrame, depth: u32) u32 {
    std.debug.assert(depth > thread_state.python_depth_max);
    std.debug.assert(depth <= scratch.len);
    var kept: u32 = 0;
    var index: u32 = 0;
    while (index < depth) : (index += 1) {
        const caller: ?*const walker.RawFrame = if (index + 1 < depth) &scratch[index + 1] else null;
        if (walker.frameOf(&scratch[index], caller) == null) continue;
        if (kept == thread_state.python_depth_max) return index;
        kept += 1;
    }
    return depth;
}

/// The code id of `code`, from the thread's small cache when this session's entry for the same
/// code object (same address and identity) is there; else from the process-wide table.
fn codeId(state: *ThreadState, writer: *ChunkWriter, code: usize) u32 {
    std.debug.assert(state.epoch != 0);
    std.debug.assert(code != 0);
    const identity = walker.codeIdentity(code);
    // Code objects are at least 16-byte aligned: the low bits carry no information.
    const entry = &state.code_cache[(code >> 4) & (thread_state.code_cache_slots - 1)];
    if (entry.code == code and entry.identity == identity and entry.epoch == state.epoch) {
        return entry.code_id;
    }
    const code_id = internCode(writer, code, identity, &state.code_scratch);
    entry.* = .{ .code = code, .identity = identity, .code_id = code_id, .epoch = state.epoch };
    return code_id;
}

fn internCode(writer: *ChunkWriter, code: usize, identity: u64, scratch: []u8) u32 {
    std.debug.assert(code != 0);
    const result = code_table.intern(code, identity);
    std.debug.assert(result.code_id != 0);
    if (!result.fresh) return result.code_id;
    const unknown = walker.CodeInfo{
        .first_line = 0,
        .name = if (result.overflow) overflow_name else "<unreadable code object>",
        .qualname = if (result.overflow) overflow_name else "<unreadable code object>",
        .filename = "<unknown>",
        .linetable = "",
    };
    const info = if (result.overflow) unknown else walker.readCode(code, scratch) orelse unknown;
    writeCode(writer, result.code_id, &info);
    return result.code_id;
}

/// A CODE record must fit one chunk: an oversized line table is cut (lines of the cut part then
/// resolve to the last known line), names are cut at 1 KiB.
fn writeCode(writer: *ChunkWriter, code_id: u32, info: *const walker.CodeInfo) void {
    const name_max = 1024;
    const name = info.name[0..@min(info.name.len, name_max)];
    const qualname = info.qualname[0..@min(info.qualname.len, name_max)];
    const filename = info.filename[0..@min(info.filename.len, 4 * name_max)];
    const fixed = 1 + 2 * encode.max_varint_bytes + encode.bytesSizeMax(name.len) +
        encode.bytesSizeMax(qualname.len) + encode.bytesSizeMax(filename.len) + encode.max_varint_bytes;
    const room = capture_file.chunk_payload_size_bytes - fixed;
    const linetable = info.linetable[0..@min(info.linetable.len, room)];
    const size: u32 = @intCast(fixed + linetable.len);
    std.debug.assert(size <= capture_file.chunk_payload_size_bytes);
    var cursor = writer.reserve(size, session.seqFloor()) orelse return;
    cursor.putByte(type_code);
    cursor.putVarint(code_id);
    cursor.putVarint(info.first_line);
    cursor.putBytes(name);
    cursor.putBytes(qualname);
    cursor.putBytes(filename);
    cursor.putBytes(linetable);
    writer.commit(cursor);
}

const GetThreadStateFn = *const fn () callconv(.c) ?*anyopaque;
var get_this_thread_state: ?GetThreadStateFn = null;

/// Resolves PyGILState_GetThisThreadState (for THREAD_INFO when the walker is not active, e.g. an
/// unsupported version); called at session start, after walker.init.
pub fn init() void {
    const symbol = @import("libc.zig").dlsym(null, "PyGILState_GetThisThreadState");
    get_this_thread_state = @ptrCast(symbol);
    std.debug.assert(get_this_thread_state == null or symbol != null);
    std.debug.assert(thread_state.python_raw_max >= thread_state.python_depth_max);
}

/// Whether the calling thread has a Python thread state (reads thread-specific data only).
pub fn hasThreadState() bool {
    if (walker.isActive()) return walker.hasThreadState();
    const function = get_this_thread_state orelse return false;
    return function() != null;
}
