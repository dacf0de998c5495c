//! `zig build bench-fold -Doptimize=ReleaseFast -- CAPTURE`: times the native fold
//! (memrayd_fold_capture) alone on an uncompressed capture of ours (`lz4 -d` a compressed one
//! first), as CPU time per run, which stays meaningful on a busy machine.
const std = @import("std");
const assert = std.debug.assert;
const fold_result = @import("fold_result.zig");

const runs = 5;

pub fn main() !void {
    const gpa = std.heap.c_allocator;
    var args = try std.process.argsWithAllocator(gpa);
    defer args.deinit();
    _ = args.next();
    const path = args.next() orelse {
        std.debug.print("usage: fold_bench CAPTURE (uncompressed)\n", .{});
        std.process.exit(2);
    };
    const bytes = try std.fs.cwd().readFileAlloc(gpa, path, std.math.maxInt(usize));
    defer gpa.free(bytes);
    if (bytes.len < 72 or !std.mem.eql(u8, bytes[0..8], "MEMRAYDN")) {
        std.debug.print("{s}: not an uncompressed capture of ours\n", .{path});
        std.process.exit(1);
    }
    const flags = std.mem.readInt(u32, bytes[16..20], .little);
    const layout: fold_result.Layout = .{
        .header_size_bytes = std.mem.readInt(u32, bytes[12..16], .little),
        .chunk_size_bytes = std.mem.readInt(u32, bytes[20..24], .little),
        .packed_layout = flags & (1 << 3) != 0,
    };
    var best_us: i64 = std.math.maxInt(i64);
    for (0..runs) |_| {
        const before = std.posix.getrusage(std.posix.rusage.SELF);
        const result = fold_result.fold_capture(gpa, bytes, layout, true, null) orelse return error.OutOfMemory;
        defer fold_result.free(gpa, result);
        const after = std.posix.getrusage(std.posix.rusage.SELF);
        const us = cpu_us(after) - cpu_us(before);
        assert(us >= 0);
        best_us = @min(best_us, us);
        std.debug.print("fold: {d} ms CPU, status {d}, {d} events, peak {d} B\n", .{
            @divTrunc(us, 1000), result.status, result.event_count, result.peak_bytes,
        });
    }
    std.debug.print("best of {d}: {d} ms CPU\n", .{ runs, @divTrunc(best_us, 1000) });
}

fn cpu_us(usage: std.posix.rusage) i64 {
    const user = usage.utime.sec * 1_000_000 + usage.utime.usec;
    const system = usage.stime.sec * 1_000_000 + usage.stime.usec;
    return user + system;
}
