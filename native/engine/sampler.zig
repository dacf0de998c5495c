//! The RSS sampler thread: every `interval_ms` it writes an RSS record (from /proc/self/statm)
//! to the process-wide chunk (thread id 0xFFFFFFFF) and checks the module list. Its own
//! allocations are never recorded (its thread state is permanently guarded).
const std = @import("std");
const libc = @import("libc.zig");
const raw = @import("raw.zig");
const encode = @import("encode.zig");
const session = @import("session.zig");
const modules = @import("modules.zig");
const thread_state = @import("thread_state.zig");

pub const interval_ms: u32 = 10;
const type_rss: u8 = 0x40;

var thread: libc.pthread_t = 0;
var running: bool = false;
/// 1 once stop is requested. A futex word: the sampler waits on it between samples, so that stop
/// wakes it at once instead of waiting out the rest of an interval (up to 10 ms per run).
var stop_requested: std.atomic.Value(u32) = .init(0);
var statm_fd: i32 = -1;

/// Takes the first sample synchronously, then starts the thread. Caller is guarded.
pub fn start() bool {
    std.debug.assert(!running);
    if (statm_fd < 0) statm_fd = raw.openReadOnly("/proc/self/statm");
    sample();
    stop_requested.store(0, .release);
    running = libc.pthread_create(&thread, null, run, null) == 0;
    std.debug.assert(stop_requested.load(.acquire) == 0);
    return running;
}

pub fn stop() void {
    if (!running) return;
    stop_requested.store(1, .release);
    std.Thread.Futex.wake(&stop_requested, 1);
    _ = libc.pthread_join(thread, null);
    running = false;
    std.debug.assert(stop_requested.load(.acquire) == 1);
}

/// In a forked child the sampler thread does not exist.
pub fn forgetAfterFork() void {
    running = false;
    stop_requested.store(0, .release);
    std.debug.assert(!running);
}

fn run(argument: ?*anyopaque) callconv(.c) ?*anyopaque {
    std.debug.assert(argument == null);
    if (thread_state.acquire()) |state| {
        state.guard = true;
        state.is_sampler = true;
    }
    var ticks: u64 = 0;
    // Bounded by the stop request; a tick count bound would stop sampling long programs.
    while (stop_requested.load(.acquire) == 0) : (ticks += 1) {
        waitInterval();
        if (stop_requested.load(.acquire) != 0) break;
        sample();
        if (session.nativeEnabled()) modules.check(false);
    }
    std.debug.assert(stop_requested.load(.acquire) == 1);
    return null;
}

/// Sleeps one interval, or less when stop is requested. A spurious or early wake-up waits again
/// for the rest of the interval, so samples stay `interval_ms` apart.
fn waitInterval() void {
    const interval_ns: u64 = @as(u64, interval_ms) * std.time.ns_per_ms;
    const start_ns = monotonicNs();
    var waited_ns: u64 = 0;
    // A wait returns at the deadline at the latest, so a few rounds always suffice.
    var round: u32 = 0;
    while (round < 64 and waited_ns < interval_ns) : (round += 1) {
        std.Thread.Futex.timedWait(&stop_requested, 0, interval_ns - waited_ns) catch {};
        if (stop_requested.load(.acquire) != 0) return;
        waited_ns = monotonicNs() -| start_ns;
    }
    std.debug.assert(round <= 64);
}

fn monotonicNs() u64 {
    var ts: std.os.linux.timespec = undefined;
    _ = std.os.linux.clock_gettime(.MONOTONIC, &ts);
    std.debug.assert(ts.sec >= 0);
    return @as(u64, @intCast(ts.sec)) * std.time.ns_per_s + @as(u64, @intCast(ts.nsec));
}

fn sample() void {
    const rss_bytes = readRssBytes();
    const writer = &session.sampler_writer;
    var cursor = writer.reserve(1 + 3 * encode.max_varint_bytes, session.seqFloor()) orelse return;
    const seq = session.nextSeq();
    const elapsed_ms = @max(0, raw.nowEpochMs() - session.start_time_ms);
    cursor.putByte(type_rss);
    cursor.putVarint(writer.seqDelta(seq));
    cursor.putVarint(@intCast(elapsed_ms));
    cursor.putVarint(rss_bytes);
    writer.commit(cursor);
}

fn readRssBytes() u64 {
    if (statm_fd < 0) return 0;
    var buffer: [128]u8 = undefined;
    const length = raw.pread(statm_fd, &buffer, 0);
    // "size resident shared ...": resident pages is the second field.
    var fields = std.mem.tokenizeScalar(u8, buffer[0..length], ' ');
    _ = fields.next() orelse return 0;
    const resident = fields.next() orelse return 0;
    const pages = std.fmt.parseInt(u64, resident, 10) catch return 0;
    return pages * raw.page_size_bytes;
}
