//! Raw Linux syscalls for the engine's own I/O and memory. They never go through libc's exported
//! `mmap`/`write`, so the engine can never re-enter its own interposed functions.
const std = @import("std");
const linux = std.os.linux;

pub const page_size_bytes: usize = 4096;

/// Returns the errno of a raw syscall result, or 0 on success.
pub fn errnoOf(rc: usize) u16 {
    const signed: isize = @bitCast(rc);
    if (signed < 0 and signed > -4096) return @intCast(-signed);
    return 0;
}

/// Anonymous private read-write memory, zeroed. Null on failure.
pub fn mapAnonymous(size_bytes: usize) ?[*]u8 {
    std.debug.assert(size_bytes > 0);
    std.debug.assert(size_bytes % page_size_bytes == 0);
    const rc = linux.mmap(null, size_bytes, linux.PROT.READ | linux.PROT.WRITE, .{
        .TYPE = .PRIVATE,
        .ANONYMOUS = true,
    }, -1, 0);
    if (errnoOf(rc) != 0) return null;
    return @ptrFromInt(rc);
}

/// Reserves address space without backing (PROT_NONE); file mappings are placed inside it later.
pub fn reserve(size_bytes: usize) ?[*]u8 {
    std.debug.assert(size_bytes % page_size_bytes == 0);
    std.debug.assert(size_bytes > 0);
    const rc = linux.mmap(null, size_bytes, linux.PROT.NONE, .{
        .TYPE = .PRIVATE,
        .ANONYMOUS = true,
        .NORESERVE = true,
    }, -1, 0);
    if (errnoOf(rc) != 0) return null;
    return @ptrFromInt(rc);
}

/// Maps `size_bytes` of `fd` at `offset_bytes` shared, exactly at `address` (inside a reservation).
pub fn mapFileFixed(address: [*]u8, size_bytes: usize, fd: i32, offset_bytes: u64) u16 {
    std.debug.assert(@intFromPtr(address) % page_size_bytes == 0);
    std.debug.assert(offset_bytes % page_size_bytes == 0);
    const rc = linux.mmap(address, size_bytes, linux.PROT.READ | linux.PROT.WRITE, .{
        .TYPE = .SHARED,
        .FIXED = true,
    }, fd, @intCast(offset_bytes));
    return errnoOf(rc);
}

pub fn unmap(address: [*]u8, size_bytes: usize) void {
    std.debug.assert(size_bytes > 0);
    std.debug.assert(@intFromPtr(address) % page_size_bytes == 0);
    _ = linux.munmap(address, size_bytes);
}

/// Opens (creates, truncates) a capture file for reading and writing. Returns fd or -errno.
pub fn createFile(path: [*:0]const u8) i32 {
    const rc = linux.open(path, .{
        .ACCMODE = .RDWR,
        .CREAT = true,
        .TRUNC = true,
        .CLOEXEC = true,
    }, 0o644);
    const err = errnoOf(rc);
    if (err != 0) return -@as(i32, err);
    return @intCast(rc);
}

pub fn openReadOnly(path: [*:0]const u8) i32 {
    const rc = linux.open(path, .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, 0);
    const err = errnoOf(rc);
    if (err != 0) return -@as(i32, err);
    return @intCast(rc);
}

pub fn truncate(fd: i32, size_bytes: u64) u16 {
    std.debug.assert(fd >= 0);
    return errnoOf(linux.ftruncate(fd, @intCast(size_bytes)));
}

pub fn close(fd: i32) void {
    std.debug.assert(fd >= 0);
    _ = linux.close(fd);
}

pub fn pread(fd: i32, buffer: []u8, offset_bytes: u64) usize {
    std.debug.assert(fd >= 0);
    const rc = linux.pread(fd, buffer.ptr, buffer.len, @intCast(offset_bytes));
    if (errnoOf(rc) != 0) return 0;
    return rc;
}

pub fn readlink(path: [*:0]const u8, buffer: []u8) usize {
    std.debug.assert(buffer.len > 0);
    const rc = linux.readlink(path, buffer.ptr, buffer.len);
    if (errnoOf(rc) != 0) return 0;
    return rc;
}

pub fn gettid() u32 {
    return @intCast(linux.gettid());
}

pub fn getpid() u32 {
    return @intCast(linux.getpid());
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn nowEpochMs() i64 {
    var ts: linux.timespec = undefined;
    _ = linux.clock_gettime(.REALTIME, &ts);
    return @as(i64, ts.sec) * 1000 + @divTrunc(@as(i64, ts.nsec), 1_000_000);
}

pub fn monotonicMs() i64 {
    var ts: linux.timespec = undefined;
    _ = linux.clock_gettime(.MONOTONIC, &ts);
    return @as(i64, ts.sec) * 1000 + @divTrunc(@as(i64, ts.nsec), 1_000_000);
}

pub fn sleepMs(duration_ms: u32) void {
    std.debug.assert(duration_ms > 0);
    std.debug.assert(duration_ms < 1000);
    const ts = linux.timespec{ .sec = 0, .nsec = @as(isize, duration_ms) * 1_000_000 };
    _ = linux.nanosleep(&ts, null);
}
