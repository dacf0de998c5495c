//! The RSS sampler thread: every `interval_ms` it writes an RSS record (from /proc/self/statm)
//! to the process-wide chunk (thread id 0xFFFFFFFF) and, with --native, checks the module list.
//!
//! Without --native it is a bare kernel thread (raw clone, no pthread), unknown to glibc. Once
//! glibc has created a thread it takes the arena lock in every malloc and free not served by its
//! per-thread cache, for the rest of the process: a pthread sampler made a single-threaded
//! program's malloc+free pair ~20 ns slower (bench temporaries: 6% of its run). The bare thread
//! shares the main thread's TLS, so it runs only code that touches none: raw syscalls (no errno),
//! the vDSO clock, atomics, our own chunk writer; no allocation, no libc locks. All signals stay
//! blocked in it, so the program's signals are delivered to its own threads only. With --native
//! the module check needs dl_iterate_phdr (libc locks, TLS): a pthread then, as before.
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
/// The bare thread's kernel tid while it runs; the kernel clears it and wakes its futex when the
/// thread has exited (CLONE_CHILD_CLEARTID), which is when its stack may be unmapped.
var bare_tid: std.atomic.Value(i32) = .init(0);
var bare_stack: ?[*]u8 = null;
const bare_stack_bytes = 256 * 1024;
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
    if (session.nativeEnabled()) {
        running = libc.pthread_create(&thread, null, run, null) == 0;
    } else {
        running = startBare();
    }
    std.debug.assert(stop_requested.load(.acquire) == 0);
    return running;
}

pub fn stop() void {
    if (!running) return;
    stop_requested.store(1, .release);
    std.Thread.Futex.wake(&stop_requested, 1);
    if (bare_stack) |stack| {
        waitBareExit();
        raw.unmap(stack, bare_stack_bytes);
        bare_stack = null;
    } else {
        _ = libc.pthread_join(thread, null);
    }
    running = false;
    std.debug.assert(stop_requested.load(.acquire) == 1);
}

/// In a forked child the sampler thread does not exist (its stack is the parent's copy: kept).
pub fn forgetAfterFork() void {
    running = false;
    bare_stack = null;
    bare_tid.store(0, .release);
    stop_requested.store(0, .release);
    std.debug.assert(!running);
}

/// Starts the bare sampler thread with every signal blocked (it inherits the mask, which is
/// restored here at once). False when the stack or the thread cannot be had: no RSS samples then.
fn startBare() bool {
    std.debug.assert(bare_stack == null);
    std.debug.assert(!session.nativeEnabled());
    const stack = raw.mapAnonymous(bare_stack_bytes) orelse return false;
    const linux = std.os.linux;
    const all: linux.sigset_t = linux.sigfillset();
    var saved: linux.sigset_t = undefined;
    _ = linux.sigprocmask(linux.SIG.SETMASK, &all, &saved);
    const flags: u32 = linux.CLONE.VM | linux.CLONE.FS | linux.CLONE.FILES | linux.CLONE.SIGHAND |
        linux.CLONE.THREAD | linux.CLONE.SYSVSEM | linux.CLONE.PARENT_SETTID |
        linux.CLONE.CHILD_CLEARTID;
    const rc = linux.clone(runBare, @intFromPtr(stack) + bare_stack_bytes, flags, 0, &bare_tid.raw, 0, &bare_tid.raw);
    _ = linux.sigprocmask(linux.SIG.SETMASK, &saved, null);
    if (linux.E.init(rc) != .SUCCESS) {
        raw.unmap(stack, bare_stack_bytes);
        return false;
    }
    std.debug.assert(rc > 0);
    bare_stack = stack;
    return true;
}

/// Waits for the kernel to clear `bare_tid` (the thread has exited). The thread exits within
/// one wake-up of the stop request; each round waits on the futex the kernel wakes.
fn waitBareExit() void {
    var rounds: u32 = 0;
    while (true) : (rounds += 1) {
        std.debug.assert(rounds < 1 << 20);
        const tid = bare_tid.load(.acquire);
        if (tid == 0) return;
        waitSharedFutex(&bare_tid.raw, tid, 10 * std.time.ns_per_ms);
    }
}

/// FUTEX_WAIT without FUTEX_PRIVATE_FLAG. The kernel's CLONE_CHILD_CLEARTID wake-up at thread
/// exit is a shared-futex wake: a private wait (std.Thread.Futex) is keyed differently, never
/// sees it and always sat out its whole timeout (10 ms at every stop).
fn waitSharedFutex(word: *const i32, expected: i32, timeout_ns: u64) void {
    std.debug.assert(timeout_ns > 0);
    std.debug.assert(timeout_ns < std.time.ns_per_s);
    const linux = std.os.linux;
    const timeout: linux.timespec = .{ .sec = 0, .nsec = @intCast(timeout_ns) };
    // EAGAIN (already changed), EINTR and ETIMEDOUT all send the caller back to its check.
    const futex_wait_shared: usize = 0; // FUTEX_WAIT, no FUTEX_PRIVATE_FLAG (128)
    _ = linux.syscall4(.futex, @intFromPtr(word), futex_wait_shared, @as(u32, @bitCast(expected)), @intFromPtr(&timeout));
}

/// The bare thread's body: samples until stopped, then returns (the clone entry exits the thread).
fn runBare(argument: usize) callconv(.c) u8 {
    std.debug.assert(argument == 0);
    loop();
    return 0;
}

fn run(argument: ?*anyopaque) callconv(.c) ?*anyopaque {
    std.debug.assert(argument == null);
    if (thread_state.acquire()) |state| {
        state.guard = true;
        state.is_sampler = true;
    }
    loop();
    return null;
}

fn loop() void {
    var ticks: u64 = 0;
    var seen_chunk_offset = session.file.next_chunk_offset.load(.monotonic);
    // Bounded by the stop request; a tick count bound would stop sampling long programs.
    while (stop_requested.load(.acquire) == 0) : (ticks += 1) {
        waitInterval();
        if (stop_requested.load(.acquire) != 0) break;
        sample();
        session.file.prefaultNext(&seen_chunk_offset);
        if (session.nativeEnabled()) modules.check(false);
    }
    std.debug.assert(stop_requested.load(.acquire) == 1);
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
