//! The process-wide event sequence counter, without a locked instruction for the common case.
//!
//! Every event takes a unique, increasing `seq` (docs/capture-format.md). A `lock xadd` per event
//! costs ~8 ns per malloc/free pair on the `temporaries` benchmark (it also drains the store
//! buffer of the interpreter's own stores). Most programs record from one thread, so the session's
//! starting thread owns the counter ("solo"): it increments it with a plain load and store inside
//! a tiny critical section flagged by `solo_busy`. Any other thread that needs a number first
//! takes the owner's right away (asymmetric Dekker): it publishes the new mode, runs
//! membarrier(PRIVATE_EXPEDITED) — a full barrier on every CPU running one of our threads, which
//! stands in for the fence the owner leaves out — then waits until the owner is outside its
//! critical section. From then on the owner sees the new mode and uses the atomic too.
//!
//! Modes: `mode_shared` (everyone uses fetchAdd; forever once another thread records), an owner's
//! thread id (solo), or `mode_borrowed`: the sampler thread (and other rare callers of `next`)
//! borrow the counter for one number and give it back, so a 10 ms RSS sample does not end solo
//! mode. While borrowed, the owner uses fetchAdd and other threads wait on `revoke_lock`.
const std = @import("std");
const capture_file = @import("capture_file.zig");

pub const mode_shared: u32 = 0;
const mode_borrowed: u32 = 0xFFFF_FFFE;

pub var counter: std.atomic.Value(u64) = .init(0);
var mode: std.atomic.Value(u32) = .init(mode_shared);
/// 1 while the owner is between its mode check and its store of the counter.
var solo_busy: std.atomic.Value(u32) = .init(0);
/// Serialises mode changes (revoke, borrow).
var revoke_lock: std.atomic.Value(u32) = .init(0);

const membarrier_cmd_private_expedited: usize = 1 << 3;
const membarrier_cmd_register_private_expedited: usize = 1 << 4;

/// Makes `owner_thread_id` the solo owner of the session's counter (reset to 0 before, by the
/// session start), if the kernel offers the barrier; else every thread uses fetchAdd, as before.
/// Called with tracking inactive, by the owner.
pub fn begin(owner_thread_id: u32) void {
    std.debug.assert(owner_thread_id != mode_shared);
    std.debug.assert(owner_thread_id != mode_borrowed);
    revoke_lock.store(0, .release);
    solo_busy.store(0, .release);
    // Registration is per address space, so a forked child registers again here.
    const rc = std.os.linux.syscall2(.membarrier, membarrier_cmd_register_private_expedited, 0);
    const solo = std.os.linux.E.init(rc) == .SUCCESS;
    mode.store(if (solo) owner_thread_id else mode_shared, .release);
}

/// The next number for an event of thread `thread_id` (its session id, never 0). Inlined into
/// the hooks: for the owner, a plain increment between two stores of `solo_busy`.
pub inline fn nextFor(thread_id: u32) u64 {
    std.debug.assert(thread_id != mode_shared);
    if (mode.load(.monotonic) == thread_id) {
        solo_busy.store(1, .monotonic);
        compilerBarrier();
        // Acquire: after a borrow the lender's `mode.store(owner, .release)` pairs with this load,
        // so the counter read below sees the lender's increment (aarch64 may otherwise read the
        // counter first and hand out the lender's number twice).
        if (mode.load(.acquire) == thread_id) {
            const seq = counter.load(.monotonic) + 1;
            counter.store(seq, .monotonic);
            compilerBarrier();
            solo_busy.store(0, .release);
            return seq;
        }
        solo_busy.store(0, .release);
    }
    if (mode.load(.monotonic) != mode_shared) {
        @branchHint(.unlikely);
        return nextSlow(thread_id);
    }
    return counter.fetchAdd(1, .monotonic) + 1;
}

/// Another thread records while solo (or the counter is borrowed): end solo mode for good, unless
/// this is the owner meeting a borrow, which only waits for it.
noinline fn nextSlow(thread_id: u32) u64 {
    capture_file.lock(&revoke_lock);
    defer capture_file.unlock(&revoke_lock);
    const current = mode.load(.monotonic);
    std.debug.assert(current != mode_borrowed); // A borrow holds the lock.
    if (current != mode_shared and current != thread_id) {
        mode.store(mode_shared, .seq_cst);
        waitOwnerOutside();
    }
    // The owner after a borrow stays solo: its next event takes the fast path again.
    return counter.fetchAdd(1, .monotonic) + 1;
}

/// A number for any thread, any time (sampler, MODULES, the thread that stops): borrows the
/// counter when it is solo, so that rare callers leave the owner solo.
pub fn next() u64 {
    if (mode.load(.acquire) == mode_shared) return counter.fetchAdd(1, .monotonic) + 1;
    capture_file.lock(&revoke_lock);
    defer capture_file.unlock(&revoke_lock);
    const owner = mode.load(.monotonic);
    std.debug.assert(owner != mode_borrowed);
    if (owner == mode_shared) return counter.fetchAdd(1, .monotonic) + 1;
    mode.store(mode_borrowed, .seq_cst);
    waitOwnerOutside();
    // The owner may also be taking numbers now, with fetchAdd (it sees mode_borrowed).
    const seq = counter.fetchAdd(1, .monotonic) + 1;
    // Release: the owner that sees its mode again also sees this increment.
    mode.store(owner, .release);
    return seq;
}

/// A floor for a chunk's first_seq: at most the last number handed out (a stale read is lower).
pub inline fn floor() u64 {
    return counter.load(.monotonic);
}

/// After the mode left solo: make the owner see it, then wait out a critical section it is in.
fn waitOwnerOutside() void {
    std.debug.assert(mode.load(.monotonic) == mode_shared or mode.load(.monotonic) == mode_borrowed);
    // Registered at begin (solo is only entered then), so the command normally succeeds; kernels
    // with off-stack cpumasks can fail it with ENOMEM, so retry a bounded number of times. (A
    // seccomp filter installed after start that refuses it leaves the owner's store unfenced: a
    // known, documented limit.)
    var attempts: u32 = 0;
    while (attempts < 64) : (attempts += 1) {
        const rc = std.os.linux.syscall2(.membarrier, membarrier_cmd_private_expedited, 0);
        if (std.os.linux.E.init(rc) == .SUCCESS) break;
        _ = std.os.linux.sched_yield();
    }
    std.debug.assert(attempts <= 64);
    var spins: u64 = 0;
    while (solo_busy.load(.acquire) != 0) : (spins += 1) {
        // A few instructions, unless the owner was preempted inside them: then yield to it, and
        // past a while sleep (a real-time waiter's sched_yield never lets a lower-priority owner run).
        std.debug.assert(spins < 1 << 40);
        std.atomic.spinLoopHint();
        if (spins >= 4096) {
            const pause: std.os.linux.timespec = .{ .sec = 0, .nsec = 50_000 };
            _ = std.os.linux.nanosleep(&pause, null);
        } else if (spins % 64 == 63) _ = std.os.linux.sched_yield();
    }
}

/// In a forked child the lock holder may be gone; the child's next session calls `begin`.
pub fn resetAfterFork() void {
    revoke_lock.store(0, .release);
    solo_busy.store(0, .release);
    mode.store(mode_shared, .release);
    std.debug.assert(mode.load(.monotonic) == mode_shared);
}

inline fn compilerBarrier() void {
    asm volatile ("" ::: .{ .memory = true });
}

test "solo owner, a borrow, then another thread's number ends solo mode" {
    const expectEqual = std.testing.expectEqual;
    counter.store(0, .release);
    begin(5);
    // Solo only where the kernel offers membarrier; the numbers are the same either way.
    const solo = mode.load(.acquire) == 5;
    try expectEqual(@as(u64, 1), nextFor(5));
    try expectEqual(@as(u64, 2), nextFor(5));
    try expectEqual(@as(u64, 3), next());
    try expectEqual(if (solo) @as(u32, 5) else mode_shared, mode.load(.acquire));
    try expectEqual(@as(u64, 4), nextFor(5));
    try expectEqual(@as(u64, 5), nextFor(7));
    try expectEqual(mode_shared, mode.load(.acquire));
    try expectEqual(@as(u64, 6), nextFor(5));
    try expectEqual(@as(u32, 0), solo_busy.load(.acquire));
    try expectEqual(@as(u32, 0), revoke_lock.load(.acquire));
}

const stress_numbers = 200_000;

fn stressTaker(thread_id: u32, out: []u64) void {
    for (out) |*slot| slot.* = if (thread_id == 0) next() else nextFor(thread_id);
}

test "the owner, a borrower and a late thread racing never share a number" {
    counter.store(0, .release);
    begin(1);
    var taken: [3][stress_numbers]u64 = undefined;
    // Thread 1 owns the counter; "0" borrows through next() (as the sampler does); thread 2
    // starts after both and ends solo mode in the middle of their runs.
    const owner = try std.Thread.spawn(.{}, stressTaker, .{ 1, taken[0][0..] });
    const borrower = try std.Thread.spawn(.{}, stressTaker, .{ 0, taken[1][0..] });
    const late = try std.Thread.spawn(.{}, stressTaker, .{ 2, taken[2][0..] });
    owner.join();
    borrower.join();
    late.join();
    const all: []u64 = @as([*]u64, @ptrCast(&taken))[0 .. 3 * stress_numbers];
    for (taken) |run| {
        // Each thread's numbers increase, as a chunk's must.
        for (run[1..], run[0 .. run.len - 1]) |later, earlier| try std.testing.expect(later > earlier);
    }
    std.mem.sort(u64, all, {}, std.sort.asc(u64));
    for (all, 1..) |number, expected| try std.testing.expectEqual(@as(u64, expected), number);
    try std.testing.expectEqual(mode_shared, mode.load(.acquire));
}
