//! The report-time native symbolizer (module `symbolize` of build.zig): ELF symbol tables,
//! DWARF lines and inlined scopes, demangling, separate debug files. `api` is its C ABI.
pub const api = @import("api.zig");
pub const Symbolizer = @import("symbolizer.zig").Symbolizer;

test {
    _ = @import("reader.zig");
    _ = @import("elf.zig");
    _ = @import("symtab.zig");
    _ = @import("dwarf_unit.zig");
    _ = @import("dwarf_ranges.zig");
    _ = @import("dwarf_lines.zig");
    _ = @import("inline.zig");
    _ = @import("dwarf.zig");
    _ = @import("demangle.zig");
    _ = @import("demangle_rust_v0.zig");
    _ = @import("debug_file.zig");
    _ = @import("strings.zig");
    _ = @import("module.zig");
    _ = @import("symbolizer.zig");
    _ = @import("api.zig");
    _ = @import("module_test.zig");
}
