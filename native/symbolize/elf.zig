//! One ELF file mapped read-only: its section table, section contents (SHF_COMPRESSED zlib
//! sections inflated once, into owned buffers), GNU build-id and .gnu_debuglink. Only ELF64
//! little-endian (x86_64, aarch64) files are accepted; anything else is error.Unsupported.
const std = @import("std");
const assert = std.debug.assert;
const rd = @import("reader.zig");

pub const Error = error{ Corrupt, Unsupported, Io, OutOfMemory };

/// Inflated sections larger than this are refused: a corrupt header must not claim gigabytes.
const max_inflated_bytes: u64 = 1 << 30;
const max_sections: u64 = 1 << 16;
const shf_compressed: u64 = 0x800;
const sht_nobits: u32 = 8;
const sht_note: u32 = 7;

pub const Section = struct {
    name: []const u8,
    name_offset: u32,
    sh_type: u32,
    flags: u64,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
    entsize: u64,
};

pub const Elf = struct {
    map: []align(std.heap.page_size_min) const u8,
    sections: []Section,
    /// Inflated copies of compressed sections, freed by close.
    owned: std.ArrayListUnmanaged([]u8) = .empty,
    /// ET_EXEC (fixed addresses) or ET_DYN (PIE executables and shared libraries).
    elf_type: u16,

    pub fn open(gpa: std.mem.Allocator, path: []const u8) Error!Elf {
        const file = std.fs.cwd().openFile(path, .{}) catch return error.Io;
        defer file.close();
        const size_bytes = (file.stat() catch return error.Io).size;
        if (size_bytes < 64) return error.Corrupt;
        const map = std.posix.mmap(null, size_bytes, std.posix.PROT.READ, .{ .TYPE = .PRIVATE }, file.handle, 0) catch return error.Io;
        errdefer std.posix.munmap(map);
        assert(map.len == size_bytes);
        return parse(gpa, map);
    }

    fn parse(gpa: std.mem.Allocator, map: []align(std.heap.page_size_min) const u8) Error!Elf {
        if (!std.mem.eql(u8, map[0..4], "\x7fELF")) return error.Corrupt;
        if (map[4] != 2 or map[5] != 1) return error.Unsupported; // ELFCLASS64, little-endian
        var r = try rd.Reader.at(map, 16);
        const elf_type = try r.int(u16);
        try r.skip(2 + 4 + 8 + 8); // machine, version, entry, phoff
        const shoff = try r.int(u64);
        try r.skip(4 + 2 + 2 + 2 + 2); // flags, ehsize, phentsize, phnum, shentsize
        const shentsize: u64 = std.mem.readInt(u16, map[58..60], .little);
        const shnum = try r.int(u16);
        const shstrndx = try r.int(u16);
        if (shnum == 0) return .{ .map = map, .sections = &.{}, .elf_type = elf_type };
        if (shentsize < 64 or shnum > max_sections or shstrndx >= shnum) return error.Corrupt;
        const table_bytes = std.math.mul(u64, shentsize, shnum) catch return error.Corrupt;
        var table = try rd.Reader.at(map, shoff);
        _ = try table.take(table_bytes);
        const sections = try gpa.alloc(Section, shnum);
        errdefer gpa.free(sections);
        for (sections, 0..) |*section, index| {
            var h = try rd.Reader.at(map, shoff + index * shentsize);
            const name_offset = try h.int(u32);
            section.* = .{
                .name = "",
                .name_offset = name_offset,
                .sh_type = try h.int(u32),
                .flags = try h.int(u64),
                .addr = try h.int(u64),
                .offset = try h.int(u64),
                .size = try h.int(u64),
                .link = try h.int(u32),
                .entsize = blk: {
                    try h.skip(4 + 8); // info, addralign
                    break :blk try h.int(u64);
                },
            };
        }
        const names = sections[shstrndx];
        if (names.sh_type == sht_nobits) return error.Corrupt;
        var names_reader = try rd.Reader.at(map, names.offset);
        const name_bytes = try names_reader.take(names.size);
        for (sections) |*section| {
            section.name = rd.stringAt(name_bytes, section.name_offset) catch "";
        }
        assert(sections.len == shnum);
        return .{ .map = map, .sections = sections, .elf_type = elf_type };
    }

    pub fn close(elf: *Elf, gpa: std.mem.Allocator) void {
        for (elf.owned.items) |buffer| gpa.free(buffer);
        elf.owned.deinit(gpa);
        gpa.free(elf.sections);
        std.posix.munmap(elf.map);
        elf.* = undefined;
    }

    pub fn find(elf: *const Elf, name: []const u8) ?*const Section {
        for (elf.sections) |*section| {
            if (std.mem.eql(u8, section.name, name)) return section;
        }
        return null;
    }

    /// The raw file bytes of a section (empty for NOBITS sections: stripped debug files keep
    /// the headers of sections whose contents live elsewhere).
    pub fn raw(elf: *const Elf, section: *const Section) Error![]const u8 {
        if (section.sh_type == sht_nobits) return &.{};
        var r = try rd.Reader.at(elf.map, section.offset);
        return r.take(section.size);
    }

    /// A section's contents, inflated when SHF_COMPRESSED; null when absent or empty.
    pub fn contents(elf: *Elf, gpa: std.mem.Allocator, name: []const u8) Error!?[]const u8 {
        const section = elf.find(name) orelse return null;
        const bytes = try elf.raw(section);
        if (bytes.len == 0) return null;
        if (section.flags & shf_compressed == 0) return bytes;
        const inflated = try inflate(gpa, bytes);
        elf.owned.append(gpa, inflated) catch |err| {
            gpa.free(inflated);
            return err;
        };
        return inflated;
    }

    /// The GNU build-id from the first note that holds one.
    pub fn buildId(elf: *const Elf) ?[]const u8 {
        for (elf.sections) |*section| {
            if (section.sh_type != sht_note) continue;
            const bytes = elf.raw(section) catch continue;
            if (noteBuildId(bytes)) |id| return id;
        }
        return null;
    }

    /// The file name in .gnu_debuglink (its CRC is not checked; build-ids are, when present).
    pub fn debuglink(elf: *const Elf) ?[]const u8 {
        const section = elf.find(".gnu_debuglink") orelse return null;
        const bytes = elf.raw(section) catch return null;
        const name = rd.stringAt(bytes, 0) catch return null;
        return if (name.len == 0) null else name;
    }
};

fn noteBuildId(bytes: []const u8) ?[]const u8 {
    var r = rd.Reader.init(bytes);
    // A note is at least 12 bytes; the bound stops a loop over garbage.
    for (0..bytes.len / 12 + 1) |_| {
        if (r.remaining() < 12) return null;
        const name_size = r.int(u32) catch return null;
        const desc_size = r.int(u32) catch return null;
        const note_type = r.int(u32) catch return null;
        const name = r.take(std.mem.alignForward(u64, name_size, 4)) catch return null;
        const desc = r.take(std.mem.alignForward(u64, desc_size, 4)) catch return null;
        if (note_type == 3 and name_size == 4 and std.mem.eql(u8, name[0..4], "GNU\x00") and desc_size > 0) {
            return desc[0..desc_size];
        }
    }
    return null;
}

/// Inflates an SHF_COMPRESSED section (Elf64_Chdr then a zlib stream).
fn inflate(gpa: std.mem.Allocator, bytes: []const u8) Error![]u8 {
    var r = rd.Reader.init(bytes);
    const ch_type = try r.int(u32);
    try r.skip(4);
    const size_bytes = try r.int(u64);
    try r.skip(8);
    if (ch_type != 1) return error.Unsupported; // ELFCOMPRESS_ZLIB only
    if (size_bytes == 0 or size_bytes > max_inflated_bytes) return error.Corrupt;
    const out = try gpa.alloc(u8, @intCast(size_bytes));
    errdefer gpa.free(out);
    const window = try gpa.alloc(u8, std.compress.flate.max_window_len);
    defer gpa.free(window);
    var input = std.Io.Reader.fixed(bytes[r.pos..]);
    var decompress = std.compress.flate.Decompress.init(&input, .zlib, window);
    decompress.reader.readSliceAll(out) catch return error.Corrupt;
    assert(out.len == size_bytes);
    return out;
}

test "elf: refuses garbage and truncated headers" {
    const gpa = std.testing.allocator;
    const page = try std.posix.mmap(null, 4096, std.posix.PROT.READ | std.posix.PROT.WRITE, .{ .TYPE = .PRIVATE, .ANONYMOUS = true }, -1, 0);
    defer std.posix.munmap(page);
    try std.testing.expectError(error.Corrupt, Elf.parse(gpa, page));
    @memcpy(page[0..6], "\x7fELF\x02\x01");
    page[60] = 3; // shnum 3 with shentsize 0
    try std.testing.expectError(error.Corrupt, Elf.parse(gpa, page));
    try std.testing.expect(noteBuildId(&.{ 4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 3, 0, 0, 0 }) == null);
}
