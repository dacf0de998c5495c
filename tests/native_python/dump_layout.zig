//! Prints every layout table of native/python/layout.zig as "minor N" followed by "field value"
//! lines (null fields omitted), in the same shape as layout_probe.c, for check_layout.py.
const std = @import("std");
const layout = @import("layout");

pub fn main() !void {
    var buffer: [4096]u8 = undefined;
    var stdout = std.fs.File.stdout().writer(&buffer);
    const out = &stdout.interface;
    for (layout.all) |table| {
        try out.print("minor {d}\n", .{table.minor});
        inline for (@typeInfo(layout.Layout).@"struct".fields) |field| {
            if (comptime std.mem.eql(u8, field.name, "minor")) continue;
            const value = @field(table, field.name);
            if (@typeInfo(field.type) == .optional) {
                if (value) |present| try out.print("{s} {d}\n", .{ field.name, present });
            } else {
                try out.print("{s} {d}\n", .{ field.name, value });
            }
        }
    }
    try out.flush();
}
