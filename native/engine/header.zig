//! The file header (docs/capture-format.md "Header"): written when a session opens, fixed fields
//! rewritten in place when it stops. The engine appends `main_thread_id` (and `parent_pid` in a
//! follow-fork child) to the caller's metadata object.
const std = @import("std");
const raw = @import("raw.zig");
const session = @import("session.zig");
const capture_file = @import("capture_file.zig");

pub const fixed_size_bytes = 72;
pub const format_version: u32 = 1;
/// Room for the keys the engine appends to the metadata.
const appended_max_bytes = 96;

pub fn sizeFor(metadata_len: usize) u32 {
    const size = std.mem.alignForward(usize, fixed_size_bytes + metadata_len + appended_max_bytes, raw.page_size_bytes);
    std.debug.assert(size % raw.page_size_bytes == 0);
    std.debug.assert(size >= fixed_size_bytes + metadata_len);
    return @intCast(size);
}

pub fn write(main_thread_id: u32, parent_pid: u32) void {
    const bytes = session.file.headerBytes();
    std.debug.assert(bytes.len >= sizeFor(session.metadata_len));
    @memcpy(bytes[0..8], "MEMRAYDN");
    std.mem.writeInt(u32, bytes[8..12], format_version, .little);
    std.mem.writeInt(u32, bytes[12..16], @intCast(bytes.len), .little);
    std.mem.writeInt(u32, bytes[16..20], session.flags & 0b11, .little);
    std.mem.writeInt(u32, bytes[20..24], capture_file.chunk_size_bytes, .little);
    std.mem.writeInt(i64, bytes[24..32], session.start_time_ms, .little);
    std.mem.writeInt(i64, bytes[32..40], 0, .little);
    std.mem.writeInt(u64, bytes[40..48], raw.getpid(), .little);
    std.mem.writeInt(u64, bytes[48..56], session.python_hexversion, .little);
    std.mem.writeInt(u64, bytes[56..64], 0, .little);
    std.mem.writeInt(u32, bytes[68..72], 0, .little);
    const metadata_len = writeMetadata(bytes[fixed_size_bytes..], main_thread_id, parent_pid);
    std.mem.writeInt(u32, bytes[64..68], @intCast(metadata_len), .little);
}

/// Copies the caller's JSON object with the engine's keys added before its closing brace.
fn writeMetadata(out: []u8, main_thread_id: u32, parent_pid: u32) usize {
    const source = session.metadata[0..session.metadata_len];
    const close = std.mem.lastIndexOfScalar(u8, source, '}');
    const open = std.mem.indexOfScalar(u8, source, '{');
    const body = if (open != null and close != null and open.? < close.?) source[open.? + 1 .. close.?] else "";
    const trimmed = std.mem.trim(u8, body, " \t\r\n");
    var extra_storage: [appended_max_bytes]u8 = undefined;
    const extra = if (parent_pid != 0)
        std.fmt.bufPrint(&extra_storage, "\"main_thread_id\":{d},\"parent_pid\":{d}", .{ main_thread_id, parent_pid }) catch unreachable
    else
        std.fmt.bufPrint(&extra_storage, "\"main_thread_id\":{d}", .{main_thread_id}) catch unreachable;
    const parts = [_][]const u8{ "{", trimmed, if (trimmed.len > 0) "," else "", extra, "}" };
    var position: usize = 0;
    for (parts) |part| {
        std.debug.assert(position + part.len <= out.len);
        @memcpy(out[position..][0..part.len], part);
        position += part.len;
    }
    return position;
}

/// Rewrites the fixed fields at stop: end time, sequence numbers handed out, finished flag.
pub fn finalize() void {
    const bytes = session.file.headerBytes();
    std.debug.assert(std.mem.eql(u8, bytes[0..8], "MEMRAYDN"));
    std.mem.writeInt(i64, bytes[32..40], raw.nowEpochMs(), .little);
    std.mem.writeInt(u64, bytes[56..64], session.seq_counter.load(.acquire), .little);
    const flags = std.mem.readInt(u32, bytes[16..20], .little);
    std.mem.writeInt(u32, bytes[16..20], flags | session.header_flag_finished, .little);
}
