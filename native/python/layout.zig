//! Byte offsets of the CPython struct fields the frame walker reads, one table per minor version.
//!
//! Every number here was measured, not remembered: tests/native_python/layout_probe.c prints
//! offsetof/sizeof from each version's own headers (built with -DPy_BUILD_CORE and the internal
//! headers), and tests/native_python/check_layout.py fails when a table below disagrees. The field
//! names are the probe's keys, so the comparison is mechanical. A field that a version does not
//! have is null.

const std = @import("std");
const assert = std.debug.assert;

pub const Layout = struct {
    minor: u8,

    // Object headers (Include/object.h, bytesobject.h, cpython/unicodeobject.h).
    object_ob_type: u32,
    varobject_ob_size: u32,
    bytes_ob_sval: u32,
    ascii_length: u32,
    ascii_state: u32,
    /// Compact ASCII strings store their characters right after PyASCIIObject...
    ascii_sizeof: u32,
    /// ...other compact strings right after PyCompactUnicodeObject.
    compact_sizeof: u32,
    /// Bit positions inside PyASCIIObject.state (bitfields: measured by setting one field).
    state_kind_shift: u32,
    state_compact_mask: u32,
    state_ascii_mask: u32,

    // PyCodeObject.
    code_co_firstlineno: u32,
    code_co_name: u32,
    code_co_filename: u32,
    code_co_qualname: ?u32,
    /// co_lnotab up to 3.9, co_linetable from 3.10.
    code_linetable: u32,
    /// _PyCode_CODE(code): the bytecode is stored inline in the code object from 3.11.
    code_co_code_adaptive: ?u32,
    code_co_firsttraceable: ?u32,
    codeunit_sizeof: ?u32,

    // 3.9/3.10: PyThreadState.frame -> PyFrameObject chain.
    tstate_frame: ?u32,
    frame_f_back: ?u32,
    frame_f_code: ?u32,
    frame_f_lasti: ?u32,
    frame_f_lasti_sizeof: ?u32,

    // 3.11/3.12: PyThreadState.cframe -> _PyCFrame.current_frame; 3.13: PyThreadState.current_frame.
    tstate_cframe: ?u32,
    cframe_current_frame: ?u32,
    tstate_current_frame: ?u32,

    // _PyInterpreterFrame (3.11+): f_code (3.11/3.12) or f_executable (3.13); prev_instr (3.11/3.12)
    // or instr_ptr (3.13).
    iframe_code: ?u32,
    iframe_previous: ?u32,
    iframe_instr: ?u32,
    iframe_owner: ?u32,
    iframe_is_entry: ?u32,
    owner_generator: ?u32,
    owner_cstack: ?u32,
};

/// Fields common to every supported version (x86_64 and any LP64 target with the same headers).
const common = .{
    .object_ob_type = 8,
    .varobject_ob_size = 16,
    .bytes_ob_sval = 32,
    .ascii_length = 16,
    .ascii_state = 32,
    .state_kind_shift = 2,
    .state_compact_mask = 32,
    .state_ascii_mask = 64,
};

fn make(comptime minor: u8, comptime fields: anytype) Layout {
    var layout: Layout = undefined;
    layout.minor = minor;
    inline for (@typeInfo(Layout).@"struct".fields) |field| {
        if (comptime std.mem.eql(u8, field.name, "minor")) continue;
        if (@hasField(@TypeOf(fields), field.name)) {
            @field(layout, field.name) = @field(fields, field.name);
        } else if (@hasField(@TypeOf(common), field.name)) {
            @field(layout, field.name) = @field(common, field.name);
        } else if (@typeInfo(field.type) == .optional) {
            @field(layout, field.name) = null;
        } else {
            @compileError("layout for 3." ++ std.fmt.comptimePrint("{d}", .{minor}) ++
                " is missing " ++ field.name);
        }
    }
    return layout;
}

pub const py39 = make(9, .{
    .ascii_sizeof = 48,
    .compact_sizeof = 72,
    .code_co_firstlineno = 40,
    .code_co_name = 112,
    .code_co_filename = 104,
    .code_linetable = 120,
    .tstate_frame = 24,
    .frame_f_back = 24,
    .frame_f_code = 32,
    .frame_f_lasti = 104,
    .frame_f_lasti_sizeof = 4,
});

pub const py310 = make(10, .{
    .ascii_sizeof = 48,
    .compact_sizeof = 72,
    .code_co_firstlineno = 40,
    .code_co_name = 112,
    .code_co_filename = 104,
    .code_linetable = 120,
    .tstate_frame = 24,
    .frame_f_back = 24,
    .frame_f_code = 32,
    .frame_f_lasti = 96,
    .frame_f_lasti_sizeof = 4,
});

pub const py311 = make(11, .{
    .ascii_sizeof = 48,
    .compact_sizeof = 72,
    .code_co_firstlineno = 72,
    .code_co_name = 120,
    .code_co_filename = 112,
    .code_co_qualname = 128,
    .code_linetable = 136,
    .code_co_code_adaptive = 184,
    .code_co_firsttraceable = 168,
    .codeunit_sizeof = 2,
    .tstate_cframe = 56,
    .cframe_current_frame = 8,
    .iframe_code = 32,
    .iframe_previous = 48,
    .iframe_instr = 56,
    .iframe_owner = 69,
    .iframe_is_entry = 68,
    .owner_generator = 1,
});

pub const py312 = make(12, .{
    .ascii_sizeof = 40,
    .compact_sizeof = 56,
    .code_co_firstlineno = 68,
    .code_co_name = 120,
    .code_co_filename = 112,
    .code_co_qualname = 128,
    .code_linetable = 136,
    .code_co_code_adaptive = 192,
    .code_co_firsttraceable = 176,
    .codeunit_sizeof = 2,
    .tstate_cframe = 56,
    .cframe_current_frame = 0,
    .iframe_code = 0,
    .iframe_previous = 8,
    .iframe_instr = 56,
    .iframe_owner = 70,
    .owner_generator = 1,
    .owner_cstack = 3,
});

pub const py313 = make(13, .{
    .ascii_sizeof = 40,
    .compact_sizeof = 56,
    .code_co_firstlineno = 68,
    .code_co_name = 120,
    .code_co_filename = 112,
    .code_co_qualname = 128,
    .code_linetable = 136,
    .code_co_code_adaptive = 200,
    .code_co_firsttraceable = 184,
    .codeunit_sizeof = 2,
    .tstate_current_frame = 72,
    .iframe_code = 0,
    .iframe_previous = 8,
    .iframe_instr = 56,
    .iframe_owner = 70,
    .owner_generator = 1,
    .owner_cstack = 3,
});

pub const all = [_]Layout{ py39, py310, py311, py312, py313 };

/// The table for a minor version of CPython 3, or null when the version is not supported.
pub fn forMinor(minor: u8) ?*const Layout {
    for (&all) |*layout| {
        if (layout.minor == minor) return layout;
    }
    return null;
}

comptime {
    // Each version walks exactly one of the three frame-chain shapes.
    for (all) |layout| {
        const object_chain = layout.tstate_frame != null;
        const cframe_chain = layout.tstate_cframe != null;
        const direct_chain = layout.tstate_current_frame != null;
        assert(@intFromBool(object_chain) + @intFromBool(cframe_chain) +
            @intFromBool(direct_chain) == 1);
        assert(object_chain == (layout.minor <= 10));
        assert((layout.iframe_is_entry != null) == (layout.minor == 11));
        assert((layout.owner_cstack != null) == (layout.minor >= 12));
        assert(layout.ascii_sizeof < layout.compact_sizeof);
    }
}

test "forMinor finds supported versions only" {
    try std.testing.expect(forMinor(8) == null);
    try std.testing.expect(forMinor(14) == null);
    try std.testing.expectEqual(@as(u8, 12), forMinor(12).?.minor);
}
