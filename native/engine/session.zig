//! Process-wide state of the current tracking session. One session at a time; a forked child
//! with follow_fork starts a new one (new epoch) in place.
const std = @import("std");
const capture_file = @import("capture_file.zig");
const seq = @import("seq.zig");
const ChunkWriter = @import("chunk_writer.zig").ChunkWriter;

pub const flag_native: u32 = 1 << 0;
pub const flag_trace_python_allocators: u32 = 1 << 1;
pub const flag_follow_fork: u32 = 1 << 2;

/// Header flag bits (docs/capture-format.md).
pub const header_flag_native: u32 = 1 << 0;
pub const header_flag_trace_python_allocators: u32 = 1 << 1;
pub const header_flag_finished: u32 = 1 << 4;

pub const output_path_max_bytes = 4096;
pub const metadata_max_bytes = 1 << 20;

/// The one load on the hooks' fast path.
pub var active: std.atomic.Value(bool) = .init(false);
/// A forked child without follow_fork never tracks again.
pub var disabled_forever: bool = false;
/// Bumped per session: per-thread state from an older epoch resets itself lazily.
pub var epoch: std.atomic.Value(u32) = .init(0);
/// The event counter (seq.zig owns how it is incremented).
pub const seq_counter = &seq.counter;
pub var next_thread_id: std.atomic.Value(u32) = .init(1);

pub var flags: u32 = 0;
pub var python_frames: bool = false;
pub var python_hexversion: u64 = 0;
pub var start_time_ms: i64 = 0;
pub var start_monotonic_ms: i64 = 0;
pub var file: capture_file.CaptureFile = .{};
pub var sampler_writer: ChunkWriter = .{ .file = &file, .thread_id = capture_file.sampler_thread_id };
/// True between a successful start and stop (also in a forked child that follows).
pub var started: bool = false;

pub var output_path: [output_path_max_bytes]u8 = undefined;
pub var output_path_len: usize = 0;
pub var metadata: [metadata_max_bytes]u8 = undefined;
pub var metadata_len: usize = 0;

/// A process-unique, strictly increasing event number (≥ 1). Taken after an allocator returns
/// and before a deallocator runs, so a free always orders after the allocation it releases.
/// Any thread, any time (rare callers: sampler, MODULES); events use `nextSeqFor`.
pub fn nextSeq() u64 {
    return seq.next();
}

/// `nextSeq` for an event of the thread with session id `thread_id` (the hooks' fast path).
pub inline fn nextSeqFor(thread_id: u32) u64 {
    return seq.nextFor(thread_id);
}

/// A `first_seq` for a chunk opened now: below every sequence number handed out later.
pub inline fn seqFloor() u64 {
    return seq.floor();
}

pub fn nativeEnabled() bool {
    return flags & flag_native != 0;
}
