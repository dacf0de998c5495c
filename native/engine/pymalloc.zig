//! --trace-python-allocators: wrappers installed with PyMem_SetAllocator in the RAW, MEM and OBJ
//! domains. The original allocator runs under the thread's guard, so the arenas and the raw
//! malloc underneath are not counted twice. Installed and restored with the GIL held.
const std = @import("std");
const libc = @import("libc.zig");
const record = @import("record.zig");

const PyMemAllocatorEx = extern struct {
    ctx: ?*anyopaque,
    malloc: *const fn (?*anyopaque, usize) callconv(.c) ?*anyopaque,
    calloc: *const fn (?*anyopaque, usize, usize) callconv(.c) ?*anyopaque,
    realloc: *const fn (?*anyopaque, ?*anyopaque, usize) callconv(.c) ?*anyopaque,
    free: *const fn (?*anyopaque, ?*anyopaque) callconv(.c) void,
};
const GetAllocatorFn = *const fn (c_int, *PyMemAllocatorEx) callconv(.c) void;
const SetAllocatorFn = *const fn (c_int, *const PyMemAllocatorEx) callconv(.c) void;

const domain_count = 3; // PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ
var originals: [domain_count]PyMemAllocatorEx = undefined;
var installed = false;

/// Returns false if the interpreter's PyMem API is not available.
pub fn install() bool {
    std.debug.assert(!installed);
    const get: GetAllocatorFn = @ptrCast(libc.dlsym(libc.RTLD_DEFAULT, "PyMem_GetAllocator") orelse return false);
    const set: SetAllocatorFn = @ptrCast(libc.dlsym(libc.RTLD_DEFAULT, "PyMem_SetAllocator") orelse return false);
    var domain: c_int = 0;
    while (domain < domain_count) : (domain += 1) {
        const index: usize = @intCast(domain);
        get(domain, &originals[index]);
        const wrapper = PyMemAllocatorEx{
            .ctx = &originals[index],
            .malloc = wrapMalloc,
            .calloc = wrapCalloc,
            .realloc = wrapRealloc,
            .free = wrapFree,
        };
        set(domain, &wrapper);
    }
    installed = true;
    return true;
}

pub fn restore() void {
    if (!installed) return;
    const set: SetAllocatorFn = @ptrCast(libc.dlsym(libc.RTLD_DEFAULT, "PyMem_SetAllocator") orelse return);
    var domain: c_int = 0;
    while (domain < domain_count) : (domain += 1) set(domain, &originals[@intCast(domain)]);
    installed = false;
    std.debug.assert(!installed);
}

fn original(ctx: ?*anyopaque) *PyMemAllocatorEx {
    const allocator: *PyMemAllocatorEx = @ptrCast(@alignCast(ctx.?));
    std.debug.assert(@intFromPtr(allocator) >= @intFromPtr(&originals[0]));
    std.debug.assert(@intFromPtr(allocator) <= @intFromPtr(&originals[domain_count - 1]));
    return allocator;
}

fn wrapMalloc(ctx: ?*anyopaque, size: usize) callconv(.c) ?*anyopaque {
    const inner = original(ctx);
    const state = record.enter() orelse return inner.malloc(inner.ctx, size);
    defer record.leave(state);
    const result = inner.malloc(inner.ctx, size);
    if (result) |pointer| record.recordAlloc(state, .pymalloc_malloc, @intFromPtr(pointer), size);
    return result;
}

fn wrapCalloc(ctx: ?*anyopaque, count: usize, size: usize) callconv(.c) ?*anyopaque {
    const inner = original(ctx);
    const state = record.enter() orelse return inner.calloc(inner.ctx, count, size);
    defer record.leave(state);
    const result = inner.calloc(inner.ctx, count, size);
    if (result) |pointer| record.recordAlloc(state, .pymalloc_calloc, @intFromPtr(pointer), count *% size);
    return result;
}

fn wrapRealloc(ctx: ?*anyopaque, old: ?*anyopaque, size: usize) callconv(.c) ?*anyopaque {
    const inner = original(ctx);
    const state = record.enter() orelse return inner.realloc(inner.ctx, old, size);
    defer record.leave(state);
    const free_seq = if (old != null) record.takeSeq(state) else 0;
    const result = inner.realloc(inner.ctx, old, size);
    if (result) |pointer| {
        if (old) |old_pointer| record.recordPymallocFreeAt(state, @intFromPtr(old_pointer), free_seq);
        record.recordAlloc(state, .pymalloc_realloc, @intFromPtr(pointer), size);
    }
    return result;
}

fn wrapFree(ctx: ?*anyopaque, pointer: ?*anyopaque) callconv(.c) void {
    const inner = original(ctx);
    const address = pointer orelse return inner.free(inner.ctx, pointer);
    const state = record.enter() orelse return inner.free(inner.ctx, pointer);
    record.recordFree(state, .pymalloc_free, @intFromPtr(address), 0);
    inner.free(inner.ctx, pointer);
    record.leave(state);
}
