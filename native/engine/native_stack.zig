//! NATIVE_STACK diffs: `unw_backtrace` into the thread's bounded buffer, the engine's own frames
//! skipped (by address: they lie inside this library), compared from the outermost frame.
const std = @import("std");
const libc = @import("libc.zig");
const encode = @import("encode.zig");
const session = @import("session.zig");
const capture_file = @import("capture_file.zig");
const thread_state = @import("thread_state.zig");
const ChunkWriter = @import("chunk_writer.zig").ChunkWriter;
const ThreadState = thread_state.ThreadState;

const type_native_stack: u8 = 0x21;

/// The address range of this library's loaded image (set once at start, see modules.zig).
pub var own_start: usize = 0;
pub var own_end: usize = 0;

comptime {
    std.debug.assert(1 + 2 * encode.max_varint_bytes + thread_state.native_depth_max * encode.max_varint_bytes <
        capture_file.chunk_payload_size_bytes);
}

pub fn emit(state: *ThreadState, writer: *ChunkWriter) void {
    std.debug.assert(state.guard);
    std.debug.assert(own_end > own_start);
    const scratch = &state.native_scratch;
    const captured_signed = libc.unw_backtrace(scratch, @intCast(scratch.len));
    const captured: u32 = if (captured_signed > 0) @intCast(captured_signed) else 0;
    std.debug.assert(captured <= scratch.len);
    // Innermost first: drop the engine's (and its static libunwind's) frames.
    var skip: u32 = 0;
    while (skip < captured) : (skip += 1) {
        const ip = @intFromPtr(scratch[skip]);
        if (ip < own_start or ip >= own_end) break;
    }
    const depth = captured - skip;
    const previous = &state.native_previous;
    const previous_len = state.native_previous_len;

    var common: u32 = 0;
    while (common < depth and common < previous_len) : (common += 1) {
        if (@intFromPtr(scratch[captured - 1 - common]) != previous[common]) break;
    }
    const pops = previous_len - common;
    const pushes = depth - common;
    if (pops == 0 and pushes == 0) return;

    var index = common;
    while (index < depth) : (index += 1) previous[index] = @intFromPtr(scratch[captured - 1 - index]);
    state.native_previous_len = depth;

    const size = 1 + 2 * encode.max_varint_bytes + pushes * encode.max_varint_bytes;
    var cursor = writer.reserve(size, session.seqFloor()) orelse return;
    cursor.putByte(type_native_stack);
    cursor.putVarint(pops);
    cursor.putVarint(pushes);
    index = common;
    while (index < depth) : (index += 1) cursor.putSvarint(writer.ipDelta(previous[index]));
    writer.commit(cursor);
}
