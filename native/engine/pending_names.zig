//! Thread names set from another thread (`t.name = "x"` while t runs). A thread writes records
//! only into its own chunk, so the name waits here, keyed by the target's pthread id, until the
//! target thread's next record applies it. The table is bounded; a full table drops the name.
const std = @import("std");
const capture_file = @import("capture_file.zig");

pub const entries_max = 32;
pub const name_max_bytes = 256;

const Entry = struct {
    /// pthread_self() of the thread to name; 0 = free slot.
    thread: u64,
    name_len: u16,
    name: [name_max_bytes]u8,
};

var entries: [entries_max]Entry = [_]Entry{.{ .thread = 0, .name_len = 0, .name = undefined }} ** entries_max;
var lock_word: std.atomic.Value(u32) = .init(0);
/// Entries in use: the one load a recording thread pays when nothing is pending.
pub var count: std.atomic.Value(u32) = .init(0);

extern "c" fn pthread_self() c_ulong;

pub fn self() u64 {
    return pthread_self();
}

/// Stores (or replaces) the pending name of `thread`. False when the table is full.
pub fn put(thread: u64, name: []const u8) bool {
    std.debug.assert(thread != 0);
    const bytes = name[0..@min(name.len, name_max_bytes)];
    capture_file.lock(&lock_word);
    defer capture_file.unlock(&lock_word);
    var free_slot: ?usize = null;
    for (&entries, 0..) |*entry, index| {
        if (entry.thread == thread) {
            store(entry, bytes);
            return true;
        }
        if (entry.thread == 0 and free_slot == null) free_slot = index;
    }
    const slot = free_slot orelse return false;
    entries[slot].thread = thread;
    store(&entries[slot], bytes);
    _ = count.fetchAdd(1, .release);
    std.debug.assert(count.load(.monotonic) <= entries_max);
    return true;
}

fn store(entry: *Entry, bytes: []const u8) void {
    std.debug.assert(bytes.len <= name_max_bytes);
    std.debug.assert(entry.thread != 0);
    @memcpy(entry.name[0..bytes.len], bytes);
    entry.name_len = @intCast(bytes.len);
}

/// Removes the calling thread's pending name, copying it into `out`; null when there is none.
pub fn take(thread: u64, out: *[name_max_bytes]u8) ?[]const u8 {
    std.debug.assert(thread != 0);
    if (count.load(.acquire) == 0) return null;
    capture_file.lock(&lock_word);
    defer capture_file.unlock(&lock_word);
    for (&entries) |*entry| {
        if (entry.thread != thread) continue;
        const len = entry.name_len;
        std.debug.assert(len <= name_max_bytes);
        @memcpy(out[0..len], entry.name[0..len]);
        entry.thread = 0;
        _ = count.fetchSub(1, .release);
        return out[0..len];
    }
    return null;
}

/// In a forked child only the forking thread exists: every pending name is stale, and the lock
/// may have been held by a thread that is gone.
pub fn resetAfterFork() void {
    lock_word.store(0, .release);
    for (&entries) |*entry| entry.thread = 0;
    count.store(0, .release);
    std.debug.assert(count.load(.monotonic) == 0);
}
