//! The interposed allocator functions. Each hook calls through a `real` pointer, so the same
//! functions can later be installed by GOT patching (Tracker API, attach). Semantics are those of
//! docs/capture-format.md: allocations recorded after the real call succeeds (requested size),
//! frees and munmaps before the real call, realloc = FREE + ALLOC, free(NULL) records nothing.
//! The program's results and errno are unchanged.
const std = @import("std");
const libc = @import("libc.zig");
const record = @import("record.zig");
const bootstrap_arena = @import("bootstrap_arena.zig");

const MallocFn = *const fn (usize) callconv(.c) ?*anyopaque;
const CallocFn = *const fn (usize, usize) callconv(.c) ?*anyopaque;
const ReallocFn = *const fn (?*anyopaque, usize) callconv(.c) ?*anyopaque;
const FreeFn = *const fn (?*anyopaque) callconv(.c) void;
const PosixMemalignFn = *const fn (*?*anyopaque, usize, usize) callconv(.c) c_int;
const AlignedFn = *const fn (usize, usize) callconv(.c) ?*anyopaque;
const MmapFn = *const fn (?*anyopaque, usize, c_int, c_int, c_int, i64) callconv(.c) ?*anyopaque;
const MunmapFn = *const fn (?*anyopaque, usize) callconv(.c) c_int;
const PrctlFn = *const fn (c_int, c_ulong, c_ulong, c_ulong, c_ulong) callconv(.c) c_int;

pub const Real = struct {
    malloc: ?MallocFn = null,
    calloc: ?CallocFn = null,
    realloc: ?ReallocFn = null,
    free: ?FreeFn = null,
    posix_memalign: ?PosixMemalignFn = null,
    aligned_alloc: ?AlignedFn = null,
    memalign: ?AlignedFn = null,
    valloc: ?MallocFn = null,
    pvalloc: ?MallocFn = null,
    mmap: ?MmapFn = null,
    mmap64: ?MmapFn = null,
    munmap: ?MunmapFn = null,
    prctl: ?PrctlFn = null,
};

pub var real: Real = .{};
var resolving: bool = false;
const map_failed: usize = std.math.maxInt(usize);
const pr_set_name: c_int = 15;

/// Looks up every real function with dlsym(RTLD_NEXT). Allocations dlsym makes meanwhile are
/// served by the bootstrap arena. Runs at the first hook call (normally before main, on one thread).
pub fn resolve() void {
    if (real.free != null) return;
    if (resolving) return;
    resolving = true;
    var found: Real = .{};
    inline for (@typeInfo(Real).@"struct".fields) |field| {
        @field(found, field.name) = @ptrCast(libc.dlsym(libc.RTLD_NEXT, field.name ++ ""));
    }
    // free last: it is the "resolved" flag checked above.
    const free_found = found.free;
    found.free = null;
    real = found;
    @atomicStore(?FreeFn, &real.free, free_found, .release);
    resolving = false;
    std.debug.assert(real.malloc != null);
    std.debug.assert(real.free != null);
}

inline fn realMalloc() ?MallocFn {
    if (real.malloc == null) resolve();
    return real.malloc;
}

pub fn malloc(size: usize) callconv(.c) ?*anyopaque {
    const real_fn = realMalloc() orelse return bootstrap_arena.alloc(size);
    const state = record.enter() orelse return real_fn(size);
    defer record.leave(state);
    const result = real_fn(size);
    if (result) |pointer| record.recordAlloc(state, .malloc, @intFromPtr(pointer), size);
    return result;
}

pub fn calloc(count: usize, size: usize) callconv(.c) ?*anyopaque {
    if (real.calloc == null) resolve();
    const real_fn = real.calloc orelse {
        const total = std.math.mul(usize, count, size) catch return null;
        return bootstrap_arena.alloc(total);
    };
    const state = record.enter() orelse return real_fn(count, size);
    defer record.leave(state);
    const result = real_fn(count, size);
    // A successful calloc implies count*size did not overflow.
    if (result) |pointer| record.recordAlloc(state, .calloc, @intFromPtr(pointer), count *% size);
    return result;
}

pub fn realloc(old: ?*anyopaque, size: usize) callconv(.c) ?*anyopaque {
    if (real.realloc == null) resolve();
    const real_fn = real.realloc orelse return bootstrapRealloc(old, size);
    if (bootstrap_arena.owns(old)) return bootstrapRealloc(old, size);
    const state = record.enter() orelse return real_fn(old, size);
    defer record.leave(state);
    // The FREE's sequence number is taken before the real call: once realloc has released the old
    // block another thread may get the same address, and its ALLOC must order after this FREE.
    const free_seq = if (old != null) record.takeSeq(state) else 0;
    const result = real_fn(old, size);
    if (result) |pointer| {
        if (old) |old_pointer| record.recordFreeAt(state, @intFromPtr(old_pointer), free_seq);
        record.recordAlloc(state, .realloc, @intFromPtr(pointer), size);
    }
    return result;
}

fn bootstrapRealloc(old: ?*anyopaque, size: usize) ?*anyopaque {
    const fresh = if (real.malloc) |real_malloc| real_malloc(size) else bootstrap_arena.alloc(size);
    const new_pointer = fresh orelse return null;
    if (old) |old_pointer| {
        const old_size = bootstrap_arena.sizeOf(old_pointer);
        const copy = @min(old_size, size);
        @memcpy(@as([*]u8, @ptrCast(new_pointer))[0..copy], @as([*]const u8, @ptrCast(old_pointer))[0..copy]);
    }
    return new_pointer;
}

pub fn free(pointer: ?*anyopaque) callconv(.c) void {
    const address = pointer orelse return;
    if (bootstrap_arena.owns(address)) return;
    if (real.free == null) resolve();
    const real_fn = real.free orelse return; // Only bootstrap blocks exist before resolution.
    const state = record.enter() orelse return real_fn(address);
    record.recordFree(state, .free, @intFromPtr(address), 0);
    real_fn(address);
    record.leave(state);
}

pub fn posix_memalign(out: *?*anyopaque, alignment: usize, size: usize) callconv(.c) c_int {
    if (real.posix_memalign == null) resolve();
    const real_fn = real.posix_memalign orelse return @intFromEnum(std.posix.E.NOMEM);
    const state = record.enter() orelse return real_fn(out, alignment, size);
    defer record.leave(state);
    const rc = real_fn(out, alignment, size);
    if (rc == 0) {
        if (out.*) |pointer| record.recordAlloc(state, .posix_memalign, @intFromPtr(pointer), size);
    }
    return rc;
}

fn alignedHook(comptime kind: record.Allocator, comptime field: []const u8) fn (usize, usize) callconv(.c) ?*anyopaque {
    return struct {
        fn hook(alignment: usize, size: usize) callconv(.c) ?*anyopaque {
            if (@field(real, field) == null) resolve();
            const real_fn = @field(real, field) orelse return null;
            const state = record.enter() orelse return real_fn(alignment, size);
            defer record.leave(state);
            const result = real_fn(alignment, size);
            if (result) |pointer| record.recordAlloc(state, kind, @intFromPtr(pointer), size);
            return result;
        }
    }.hook;
}

pub const aligned_alloc = alignedHook(.aligned_alloc, "aligned_alloc");
pub const memalign = alignedHook(.memalign, "memalign");

fn pageHook(comptime kind: record.Allocator, comptime field: []const u8) fn (usize) callconv(.c) ?*anyopaque {
    return struct {
        fn hook(size: usize) callconv(.c) ?*anyopaque {
            if (@field(real, field) == null) resolve();
            const real_fn = @field(real, field) orelse return null;
            const state = record.enter() orelse return real_fn(size);
            defer record.leave(state);
            const result = real_fn(size);
            if (result) |pointer| record.recordAlloc(state, kind, @intFromPtr(pointer), size);
            return result;
        }
    }.hook;
}

pub const valloc = pageHook(.valloc, "valloc");
pub const pvalloc = pageHook(.pvalloc, "pvalloc");

fn mmapHook(comptime field: []const u8) fn (?*anyopaque, usize, c_int, c_int, c_int, i64) callconv(.c) ?*anyopaque {
    return struct {
        fn hook(address: ?*anyopaque, length: usize, prot: c_int, flags: c_int, fd: c_int, offset: i64) callconv(.c) ?*anyopaque {
            if (@field(real, field) == null) resolve();
            const real_fn = @field(real, field) orelse return rawMmap(address, length, prot, flags, fd, offset);
            const state = record.enter() orelse return real_fn(address, length, prot, flags, fd, offset);
            defer record.leave(state);
            const result = real_fn(address, length, prot, flags, fd, offset);
            if (@intFromPtr(result) != map_failed) {
                record.recordAlloc(state, .mmap, @intFromPtr(result), length);
            }
            return result;
        }
    }.hook;
}

pub const mmap = mmapHook("mmap");
pub const mmap64 = mmapHook("mmap64");

/// Used only if an mmap call arrives before dlsym resolved the real one (dlsym itself may mmap).
fn rawMmap(address: ?*anyopaque, length: usize, prot: c_int, flags: c_int, fd: c_int, offset: i64) ?*anyopaque {
    const rc = std.os.linux.syscall6(.mmap, @intFromPtr(address), length, @as(u32, @bitCast(prot)), @as(u32, @bitCast(flags)), @as(usize, @bitCast(@as(isize, fd))), @bitCast(offset));
    const signed: isize = @bitCast(rc);
    if (signed < 0 and signed > -4096) {
        libc.errnoSet(@intCast(-signed));
        return @ptrFromInt(map_failed);
    }
    return @ptrFromInt(rc);
}

pub fn munmap(address: ?*anyopaque, length: usize) callconv(.c) c_int {
    if (real.munmap == null) resolve();
    const real_fn = real.munmap orelse return -1;
    const state = record.enter() orelse return real_fn(address, length);
    record.recordFree(state, .munmap, @intFromPtr(address), length);
    const rc = real_fn(address, length);
    record.leave(state);
    return rc;
}

/// prctl(PR_SET_NAME) names the thread (THREAD_NAME). Declared with five integer arguments: on
/// x86-64 that is call-compatible with the variadic prototype.
pub fn prctl(option: c_int, arg2: c_ulong, arg3: c_ulong, arg4: c_ulong, arg5: c_ulong) callconv(.c) c_int {
    if (real.prctl == null) resolve();
    const real_fn = real.prctl orelse return -1;
    const rc = real_fn(option, arg2, arg3, arg4, arg5);
    if (option != pr_set_name or rc != 0 or arg2 == 0) return rc;
    const state = record.enter() orelse return rc;
    record.recordThreadName(state, @ptrFromInt(arg2));
    record.leave(state);
    return rc;
}
