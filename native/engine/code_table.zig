//! Process-wide interning of Python code objects to `code_id`s: a lock-free, fixed-capacity,
//! open-addressing table keyed by (code pointer, walker identity). It never allocates; when it is
//! full (or a probe sequence is exhausted) callers get `overflow` and use one shared id whose
//! CODE record says so, so stacks stay well formed and only names are lost.
const std = @import("std");

pub const capacity = 1 << 17;
const probe_max = 512;
const state_empty: u32 = 0;
const state_writing: u32 = 1;
const state_ready: u32 = 2;

const Slot = struct {
    state: std.atomic.Value(u32) = .init(state_empty),
    code_id: u32 = 0,
    code: usize = 0,
    identity: u64 = 0,
};

var slots: [capacity]Slot = [_]Slot{.{}} ** capacity;
var next_id: std.atomic.Value(u32) = .init(1);
var used: std.atomic.Value(bool) = .init(false);
var overflow_id: std.atomic.Value(u32) = .init(0);

pub const Result = struct {
    code_id: u32,
    /// The caller inserted the id and must write its CODE record (exactly once per file).
    fresh: bool,
    /// The table is full: `code_id` is the shared overflow id.
    overflow: bool,
};

pub fn intern(code: usize, identity: u64) Result {
    std.debug.assert(code != 0);
    used.store(true, .monotonic);
    const hash = std.hash.int(@as(u64, code) ^ (identity *% 0x9E3779B97F4A7C15));
    var probe: usize = 0;
    while (probe < probe_max) : (probe += 1) {
        const slot = &slots[(hash +% probe) & (capacity - 1)];
        var state = slot.state.load(.acquire);
        if (state == state_empty) {
            if (slot.state.cmpxchgStrong(state_empty, state_writing, .acquire, .acquire)) |seen| {
                state = seen;
            } else {
                slot.code = code;
                slot.identity = identity;
                slot.code_id = next_id.fetchAdd(1, .monotonic);
                slot.state.store(state_ready, .release);
                return .{ .code_id = slot.code_id, .fresh = true, .overflow = false };
            }
        }
        // Another thread is filling the slot: it stores three words, so wait briefly.
        var spins: u32 = 0;
        while (state == state_writing and spins < 10_000) : (spins += 1) {
            std.atomic.spinLoopHint();
            state = slot.state.load(.acquire);
        }
        if (state == state_ready and slot.code == code and slot.identity == identity) {
            return .{ .code_id = slot.code_id, .fresh = false, .overflow = false };
        }
    }
    return overflowResult();
}

fn overflowResult() Result {
    const existing = overflow_id.load(.acquire);
    if (existing != 0) return .{ .code_id = existing, .fresh = false, .overflow = true };
    const candidate = next_id.fetchAdd(1, .monotonic);
    if (overflow_id.cmpxchgStrong(0, candidate, .acq_rel, .acquire)) |winner| {
        return .{ .code_id = winner, .fresh = false, .overflow = true };
    }
    return .{ .code_id = candidate, .fresh = true, .overflow = true };
}

/// Starts a new id space (new session or forked child). Only called while no other thread
/// interns for the new session (tracking is inactive or the process has one thread).
pub fn reset() void {
    if (used.load(.monotonic)) {
        @memset(std.mem.sliceAsBytes(&slots), 0);
        used.store(false, .monotonic);
    }
    next_id.store(1, .release);
    overflow_id.store(0, .release);
    std.debug.assert(slots[0].state.load(.monotonic) == state_empty);
}

test "intern gives stable ids and reports fresh once" {
    reset();
    const first = intern(0x1000, 7);
    try std.testing.expect(first.fresh);
    const again = intern(0x1000, 7);
    try std.testing.expect(!again.fresh);
    try std.testing.expectEqual(first.code_id, again.code_id);
    const other = intern(0x1000, 8);
    try std.testing.expect(other.code_id != first.code_id);
}
