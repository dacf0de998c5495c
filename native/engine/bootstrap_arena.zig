//! A static bump arena for allocations made while the real allocator is being looked up
//! (dlsym may call malloc/calloc before `real.malloc` is known). Never reused, never freed:
//! frees of its blocks are ignored, reallocs copy out of it.
const std = @import("std");

const arena_size_bytes = 64 * 1024;
const alignment_bytes = 16;
/// Each block is preceded by its size so realloc can copy it out.
const header_size_bytes = alignment_bytes;

var arena: [arena_size_bytes]u8 align(alignment_bytes) = [_]u8{0} ** arena_size_bytes;
var used_bytes: std.atomic.Value(usize) = .init(0);

pub fn alloc(size_bytes: usize) ?*anyopaque {
    const block = std.mem.alignForward(usize, size_bytes + header_size_bytes, alignment_bytes);
    if (block > arena_size_bytes) return null;
    const offset = used_bytes.fetchAdd(block, .monotonic);
    if (offset + block > arena_size_bytes) return null;
    std.debug.assert(offset % alignment_bytes == 0);
    const base: [*]u8 = &arena;
    std.mem.writeInt(usize, base[offset..][0..8], size_bytes, .little);
    // Blocks are never reused and the arena starts zeroed (bss): calloc needs no memset.
    return base + offset + header_size_bytes;
}

pub fn owns(pointer: ?*anyopaque) bool {
    const address = @intFromPtr(pointer);
    const start = @intFromPtr(&arena);
    return address >= start and address < start + arena_size_bytes;
}

pub fn sizeOf(pointer: *anyopaque) usize {
    std.debug.assert(owns(pointer));
    const bytes: [*]u8 = @ptrCast(pointer);
    const size = std.mem.readInt(usize, (bytes - header_size_bytes)[0..8], .little);
    std.debug.assert(size <= arena_size_bytes);
    return size;
}
