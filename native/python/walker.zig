//! Captures the calling thread's Python stack by reading CPython's structs directly, so that the
//! allocation hooks need no per-call profile function (which costs 2.7-3.1x on call-heavy code).
//!
//! Why this is safe without the GIL: a thread's frame chain is only ever modified by that thread,
//! and frames keep their code objects alive, so the own thread can read its chain at any point,
//! including inside malloc called with the GIL released. Everything here is plain loads through
//! offsets measured per minor version (layout.zig): no allocation, no locks, no CPython calls
//! except two that only read globals (Py_IsInitialized, _Py_IsFinalizing) and one
//! pthread_getspecific (the thread state, under the key PyGILState_GetThisThreadState uses).

const std = @import("std");
const assert = std.debug.assert;
const layout = @import("layout.zig");
const strings = @import("strings.zig");
const Layout = layout.Layout;

pub const Frame = struct { code: usize, instr_offset_bytes: i32, is_entry: bool };

pub const CodeInfo = struct {
    first_line: u32,
    name: []const u8,
    qualname: []const u8,
    filename: []const u8,
    linetable: []const u8,
};

/// Frames skipped in one walk (C-stack shims, incomplete frames) beyond one per captured frame.
/// Shims alternate with real frames, so a walk visits at most about 2 * frames_out.len frames;
/// the margin covers an incomplete frame on top and a shim at the bottom.
const skipped_frames_max = 64;
/// Bounds that no real code object exceeds; a larger value means the object is not what we think.
const string_chars_max = 1 << 20;
const linetable_bytes_max = 1 << 26;

const Api = struct {
    get_this_thread_state: *const fn () callconv(.c) ?*anyopaque,
    is_initialized: *const fn () callconv(.c) c_int,
    is_finalizing: *const fn () callconv(.c) c_int,
    code_type: usize,
    unicode_type: usize,
    bytes_type: usize,
};

var api: Api = undefined;
/// The active table; null until init succeeds. Written once, before the engine activates hooks.
var active: ?*const Layout = null;

/// Resolve needed CPython symbols with dlsym(RTLD_DEFAULT, ...) and pick the struct layout for this
/// minor version (sys.hexversion). Returns false for unsupported versions. Called once, GIL held.
pub fn init(python_hexversion: u64) bool {
    const major = (python_hexversion >> 24) & 0xff;
    const minor = (python_hexversion >> 16) & 0xff;
    if (major != 3) return false;
    const chosen = layout.forMinor(@intCast(minor)) orelse return false;
    assert(chosen.minor == minor);

    const resolved = Api{
        .get_this_thread_state = @ptrCast(symbol("PyGILState_GetThisThreadState") orelse return false),
        .is_initialized = @ptrCast(symbol("Py_IsInitialized") orelse return false),
        // 3.13 renamed _Py_IsFinalizing to the public Py_IsFinalizing.
        .is_finalizing = @ptrCast(symbol("_Py_IsFinalizing") orelse
            symbol("Py_IsFinalizing") orelse return false),
        .code_type = @intFromPtr(symbol("PyCode_Type") orelse return false),
        .unicode_type = @intFromPtr(symbol("PyUnicode_Type") orelse return false),
        .bytes_type = @intFromPtr(symbol("PyBytes_Type") orelse return false),
    };
    api = resolved;
    active = chosen;
    findThreadStateKey();
    findRuntimeFlags(chosen.minor);

    // Self-check against the caller's own stack (init is called from Python, so there is one):
    // a table that does not fit this interpreter (e.g. a debug build) shows up as a frame whose
    // code pointer is not a code object or whose strings are not str objects.
    var frames: [4]Frame = undefined;
    const count = captureCurrentThread(&frames);
    for (frames[0..count]) |frame| {
        if (!isCode(chosen, frame.code) or !codeLooksValid(chosen, frame.code)) {
            active = null;
            return false;
        }
    }
    assert(active != null);
    return true;
}

fn symbol(name: [*:0]const u8) ?*anyopaque {
    assert(name[0] != 0);
    // RTLD_DEFAULT is the null handle: search the global scope (main program and its libraries),
    // which is where both a static interpreter and libpython3.X.so export the C API.
    return std.c.dlsym(null, name);
}

/// A frame as the walk finds it, before filtering and conversion: exactly the fields that decide
/// whether and how the frame is reported (together with its caller's raw frame). Two walks that
/// find equal raw frames from the outermost one up report equal stacks, so the engine compares raw
/// frames (two words each) and converts only the frames that changed.
pub const RawFrame = extern struct {
    /// f_code (3.9-3.12) or f_executable (3.13); not checked to be a code object yet.
    code: usize,
    /// 3.11+: prev_instr / instr_ptr XOR flags << 48, flags being the owner byte (3.12+) or the
    /// is_entry byte | owner byte << 8 (3.11, one 16-bit load). User-space pointers on x86-64
    /// stay below 2^47, so the packing loses nothing. 3.9/3.10: f_lasti, sign-extended.
    key: u64,

    pub inline fn eql(self: *const RawFrame, other: *const RawFrame) bool {
        return self.code == other.code and self.key == other.key;
    }
};

const key_flags_shift = 48;
const key_position_mask: u64 = (1 << key_flags_shift) - 1;

/// Raw frames one full walk visits at most for `frames_max` reported frames: shims alternate with
/// real frames, plus a margin for incomplete frames and a shim at the bottom.
pub fn rawFramesFor(frames_max: usize) usize {
    return 2 * frames_max + skipped_frames_max;
}

/// The calling thread's Python frames, INNERMOST FIRST, into frames_out; returns the count
/// (0 when the thread has no Python thread state, e.g. a C thread, or Python is not initialized /
/// finalizing). Must be async-safe w.r.t. the own thread: no allocation, no locks, no GIL needed.
/// Stops at frames_out.len (bounded). Skips 3.11 incomplete frames and 3.12/3.13 C-stack shim frames.
pub fn captureCurrentThread(frames_out: []Frame) usize {
    if (frames_out.len == 0) return 0;
    var raw: [rawFramesFor(capture_frames_max)]RawFrame = undefined;
    const raw_limit = @min(raw.len, rawFramesFor(frames_out.len));
    const raw_count = walkRaw(raw[0..raw_limit]);
    assert(raw_count <= raw_limit);
    const table = active orelse return 0;
    // One dispatch for the whole conversion, as in walkRaw.
    const count = switch (table.minor) {
        9 => convertAll(layout.py39, raw[0..raw_count], frames_out),
        10 => convertAll(layout.py310, raw[0..raw_count], frames_out),
        11 => convertAll(layout.py311, raw[0..raw_count], frames_out),
        12 => convertAll(layout.py312, raw[0..raw_count], frames_out),
        13 => convertAll(layout.py313, raw[0..raw_count], frames_out),
        else => unreachable,
    };
    assert(count <= frames_out.len);
    return count;
}

/// Converts innermost-first raw frames until frames_out is full.
fn convertAll(comptime table: Layout, raw: []const RawFrame, frames_out: []Frame) usize {
    assert(frames_out.len > 0);
    var count: usize = 0;
    var index: usize = 0;
    while (index < raw.len and count < frames_out.len) : (index += 1) {
        const caller: ?*const RawFrame = if (index + 1 < raw.len) &raw[index + 1] else null;
        if (frameOfVersion(table, &raw[index], caller)) |frame| {
            frames_out[count] = frame;
            count += 1;
        }
    }
    assert(count <= index);
    return count;
}

inline fn frameOfVersion(comptime table: Layout, raw: *const RawFrame, caller: ?*const RawFrame) ?Frame {
    if (table.minor <= 10) return frameOfFrameObject(table, raw);
    return frameOfInterpreterFrame(table, raw, caller);
}

/// captureCurrentThread reports at most this many frames (its raw buffer lives on the stack).
pub const capture_frames_max = 512;

/// The calling thread's raw frames, INNERMOST FIRST, into raw_out (bounded by its length); 0 when
/// the thread has no Python thread state or Python is not initialized / finalizing. Same safety
/// as captureCurrentThread: plain loads of the own thread's chain only.
pub fn walkRaw(raw_out: []RawFrame) usize {
    const thread = currentThread() orelse return 0;
    const count = walkFrames(thread, raw_out);
    assert(count <= raw_out.len);
    return count;
}

/// The calling thread's frame chain, as found once per record: `sameFrames` and `walkFrames`
/// both start from it, so a record whose stack changed pays for the lookups only once.
pub const ThreadFrames = struct { tstate: usize, minor: u8 };

/// The calling thread's chain; null when it has no Python frames to walk (no thread state,
/// Python not initialized or finalizing, or no layout in use): an empty stack.
pub fn currentThread() ?ThreadFrames {
    const table = active orelse return null;
    if (!pythonAlive()) return null;
    const tstate = @intFromPtr(threadState() orelse return null);
    assert(tstate != 0);
    return .{ .tstate = tstate, .minor = table.minor };
}

/// Whether the thread's raw frames are exactly `previous` (OUTERMOST first, as the engine keeps
/// the stack it wrote last): the walk reads each frame and compares it at once, stopping at the
/// first difference, and stores nothing. This is the hot path of every allocation whose stack
/// did not change (a loop allocating at one line): about half the loads and no stores of a
/// walk followed by a comparison.
pub fn sameFrames(thread: ThreadFrames, previous: []const RawFrame) bool {
    assert(thread.tstate != 0);
    return switch (thread.minor) {
        9 => sameFrameObjects(layout.py39, thread.tstate, previous),
        10 => sameFrameObjects(layout.py310, thread.tstate, previous),
        11 => sameInterpreterFrames(layout.py311, thread.tstate, previous),
        12 => sameInterpreterFrames(layout.py312, thread.tstate, previous),
        13 => sameInterpreterFrames(layout.py313, thread.tstate, previous),
        else => unreachable,
    };
}

/// The thread's raw frames, INNERMOST FIRST, into raw_out (bounded by its length).
pub fn walkFrames(thread: ThreadFrames, raw_out: []RawFrame) usize {
    assert(thread.tstate != 0);
    if (raw_out.len == 0) return 0;
    // One runtime dispatch per walk; the loops below are specialized per version at compile time
    // so every offset is an immediate.
    const count = switch (thread.minor) {
        9 => walkFrameObjects(layout.py39, thread.tstate, raw_out),
        10 => walkFrameObjects(layout.py310, thread.tstate, raw_out),
        11 => walkInterpreterFrames(layout.py311, thread.tstate, raw_out),
        12 => walkInterpreterFrames(layout.py312, thread.tstate, raw_out),
        13 => walkInterpreterFrames(layout.py313, thread.tstate, raw_out),
        else => unreachable,
    };
    assert(count <= raw_out.len);
    return count;
}

/// The reported frame for a raw frame, or null when the frame is skipped (not a code object, a
/// C-stack shim, an incomplete frame). `caller` is the next raw frame outwards (its `previous`),
/// null at the bottom of the walk.
pub fn frameOf(raw: *const RawFrame, caller: ?*const RawFrame) ?Frame {
    const table = active orelse return null;
    return switch (table.minor) {
        9 => frameOfVersion(layout.py39, raw, caller),
        10 => frameOfVersion(layout.py310, raw, caller),
        11 => frameOfVersion(layout.py311, raw, caller),
        12 => frameOfVersion(layout.py312, raw, caller),
        13 => frameOfVersion(layout.py313, raw, caller),
        else => unreachable,
    };
}

/// Whether init succeeded (a layout is in use).
pub fn isActive() bool {
    return active != null;
}

/// Whether the calling thread has a Python thread state (thread-specific data only).
pub fn hasThreadState() bool {
    if (active == null) return false;
    return threadState() != null;
}

/// PyGILState_GetThisThreadState without the call: CPython keeps the thread's state under one
/// pthread key (its autoTSSkey), found at init. Falls back to the function when it was not found.
inline fn threadState() ?*anyopaque {
    if (tstate_key_found) return pthread_getspecific(tstate_key);
    return api.get_this_thread_state();
}

extern "c" fn pthread_getspecific(key: c_uint) ?*anyopaque;

/// Py_IsInitialized() and !_Py_IsFinalizing() without two calls per walk: the same two fields of
/// _PyRuntime read directly (their offsets below, from each version's pycore_runtime.h), when
/// init could check them against the functions; else the functions.
inline fn pythonAlive() bool {
    if (runtime_initialized) |initialized| {
        return @atomicLoad(c_int, initialized, .monotonic) != 0 and
            @atomicLoad(usize, runtime_finalizing.?, .monotonic) == 0;
    }
    return api.is_initialized() != 0 and api.is_finalizing() == 0;
}

var runtime_initialized: ?*const c_int = null;
var runtime_finalizing: ?*const usize = null;

/// _PyRuntimeState starts with `int preinitializing, preinitialized, core_initialized, initialized;`
/// then `_finalizing` (3.9/3.10); 3.11/3.12 put `int _initialized` first; 3.13 puts
/// _Py_DebugOffsets first, whose runtime_state.finalizing (at byte 32) gives the offset.
fn findRuntimeFlags(minor: u8) void {
    runtime_initialized = null;
    runtime_finalizing = null;
    const runtime = @intFromPtr(symbol("_PyRuntime") orelse return);
    const initialized_offset: usize, const finalizing_offset: usize = switch (minor) {
        9, 10 => .{ 12, 16 },
        11, 12 => .{ 16, 24 },
        13 => blk: {
            const cookie: *const [8]u8 = @ptrFromInt(runtime);
            if (!std.mem.eql(u8, cookie, "xdebugpy")) return;
            const finalizing = load(u64, runtime + 32);
            if (finalizing < 40 or finalizing > 1 << 16) return;
            break :blk .{ finalizing - 8, finalizing };
        },
        else => return,
    };
    const initialized: *const c_int = @ptrFromInt(runtime + initialized_offset);
    const finalizing: *const usize = @ptrFromInt(runtime + finalizing_offset);
    // init runs with Python initialized and not finalizing: both fields must say so.
    if (initialized.* != 1 or api.is_initialized() != 1) return;
    if (finalizing.* != 0 or api.is_finalizing() != 0) return;
    runtime_finalizing = finalizing;
    runtime_initialized = initialized;
    assert(pythonAlive());
}

/// Keys scanned for CPython's thread-state key; glibc answers null for any key not created.
const tstate_keys_scanned = 256;
var tstate_key: c_uint = 0;
var tstate_key_found = false;

/// Finds the pthread key under which CPython stores the calling thread's state: the one key whose
/// value is exactly what PyGILState_GetThisThreadState returns. Called at init, GIL held.
fn findThreadStateKey() void {
    tstate_key_found = false;
    const tstate = api.get_this_thread_state() orelse return;
    var matches: u32 = 0;
    var key: c_uint = 0;
    while (key < tstate_keys_scanned) : (key += 1) {
        if (pthread_getspecific(key) == tstate) {
            matches += 1;
            tstate_key = key;
        }
    }
    // Two keys holding the same pointer would make the choice a guess: use the function then.
    tstate_key_found = matches == 1;
    assert(!tstate_key_found or pthread_getspecific(tstate_key) == api.get_this_thread_state());
}

inline fn load(comptime T: type, address: usize) T {
    return @as(*const T, @ptrFromInt(address)).*;
}

inline fn isCode(table: *const Layout, object: usize) bool {
    return object != 0 and load(usize, object + table.object_ob_type) == api.code_type;
}

/// 3.9/3.10: PyThreadState.frame -> PyFrameObject.f_back chain.
fn walkFrameObjects(comptime table: Layout, tstate: usize, raw_out: []RawFrame) usize {
    comptime assert(table.tstate_frame != null);
    assert(tstate != 0);
    var frame = load(usize, tstate + table.tstate_frame.?);
    var count: usize = 0;
    while (frame != 0 and count < raw_out.len) : (count += 1) {
        const lasti: i64 = load(i32, frame + table.frame_f_lasti.?);
        raw_out[count] = .{ .code = load(usize, frame + table.frame_f_code.?), .key = @bitCast(lasti) };
        frame = load(usize, frame + table.frame_f_back.?);
    }
    assert(count <= raw_out.len);
    return count;
}

/// sameFrames for 3.9/3.10: walkFrameObjects' loads, compared innermost first against
/// `previous` read from its end. Bounded by previous.len: every frame consumes one entry.
fn sameFrameObjects(comptime table: Layout, tstate: usize, previous: []const RawFrame) bool {
    comptime assert(table.tstate_frame != null);
    assert(tstate != 0);
    var frame = load(usize, tstate + table.tstate_frame.?);
    var index = previous.len;
    while (frame != 0) {
        if (index == 0) return false;
        index -= 1;
        const expected = &previous[index];
        if (load(usize, frame + table.frame_f_code.?) != expected.code) return false;
        const lasti: i64 = load(i32, frame + table.frame_f_lasti.?);
        if (@as(u64, @bitCast(lasti)) != expected.key) return false;
        frame = load(usize, frame + table.frame_f_back.?);
    }
    assert(index <= previous.len);
    return index == 0;
}

/// f_lasti counts bytes on 3.9 and code units on 3.10. Every frame started a C-level eval call,
/// so all are entry frames.
fn frameOfFrameObject(comptime table: Layout, raw: *const RawFrame) ?Frame {
    comptime assert(table.frame_f_lasti != null);
    if (!isCode(&table, raw.code)) return null;
    const lasti_unit_bytes: i32 = if (table.minor == 9) 1 else 2;
    const lasti: i32 = @truncate(@as(i64, @bitCast(raw.key)));
    return .{
        .code = raw.code,
        // A negative f_lasti means the frame has not started; keep it negative (-1).
        .instr_offset_bytes = if (lasti < 0) -1 else lasti *| lasti_unit_bytes,
        .is_entry = true,
    };
}

/// 3.11-3.13: _PyInterpreterFrame.previous chain, reached through PyThreadState.cframe (3.11/3.12)
/// or PyThreadState.current_frame (3.13). Only loads: filtering happens in frameOf, for the frames
/// that changed since the thread's previous walk.
fn walkInterpreterFrames(comptime table: Layout, tstate: usize, raw_out: []RawFrame) usize {
    comptime assert(table.iframe_code != null and table.codeunit_sizeof.? == 2);
    assert(tstate != 0);
    var frame: usize = if (table.tstate_current_frame) |offset| load(usize, tstate + offset) else blk: {
        const cframe = load(usize, tstate + table.tstate_cframe.?);
        if (cframe == 0) return 0;
        break :blk load(usize, cframe + table.cframe_current_frame.?);
    };
    var count: usize = 0;
    while (frame != 0 and count < raw_out.len) : (count += 1) {
        // 3.11 keeps is_entry in the byte before owner: one 16-bit load reads both (owner in the
        // high byte); later versions have the owner byte only.
        const flags: u64 = if (table.iframe_is_entry) |offset| blk: {
            comptime assert(offset + 1 == table.iframe_owner.?);
            break :blk load(u16, frame + offset);
        } else load(u8, frame + table.iframe_owner.?);
        raw_out[count] = .{
            .code = load(usize, frame + table.iframe_code.?),
            .key = load(usize, frame + table.iframe_instr.?) ^ (flags << key_flags_shift),
        };
        frame = load(usize, frame + table.iframe_previous.?);
    }
    assert(count <= raw_out.len);
    return count;
}

/// sameFrames for 3.11-3.13: walkInterpreterFrames' loads and key, compared innermost first
/// against `previous` read from its end. Bounded by previous.len: every frame consumes one entry.
fn sameInterpreterFrames(comptime table: Layout, tstate: usize, previous: []const RawFrame) bool {
    comptime assert(table.iframe_code != null and table.codeunit_sizeof.? == 2);
    assert(tstate != 0);
    var frame: usize = if (table.tstate_current_frame) |offset| load(usize, tstate + offset) else blk: {
        const cframe = load(usize, tstate + table.tstate_cframe.?);
        if (cframe == 0) return previous.len == 0;
        break :blk load(usize, cframe + table.cframe_current_frame.?);
    };
    var index = previous.len;
    while (frame != 0) {
        if (index == 0) return false;
        index -= 1;
        const expected = &previous[index];
        if (load(usize, frame + table.iframe_code.?) != expected.code) return false;
        const flags: u64 = if (table.iframe_is_entry) |offset| blk: {
            comptime assert(offset + 1 == table.iframe_owner.?);
            break :blk load(u16, frame + offset);
        } else load(u8, frame + table.iframe_owner.?);
        const key = load(usize, frame + table.iframe_instr.?) ^ (flags << key_flags_shift);
        if (key != expected.key) return false;
        frame = load(usize, frame + table.iframe_previous.?);
    }
    assert(index <= previous.len);
    return index == 0;
}

/// Skips what PyFrame_GetBack/sys._getframe skip: C-stack shims (3.12+) and incomplete frames
/// (still in their prologue, before _co_firsttraceable); 3.13 f_executable may also be None or
/// another non-code object, which is not a Python function to report.
fn frameOfInterpreterFrame(comptime table: Layout, raw: *const RawFrame, caller: ?*const RawFrame) ?Frame {
    comptime assert(table.iframe_code != null);
    const flags = raw.key >> key_flags_shift;
    const owner: u8 = @truncate(if (table.iframe_is_entry != null) flags >> 8 else flags);
    if (table.owner_cstack) |cstack| {
        if (owner == cstack) return null;
    }
    const code = raw.code;
    if (!isCode(&table, code)) return null;
    const bytecode = code + table.code_co_code_adaptive.?;
    // Wrapping subtraction then a signed view: a frame that has not started points one code
    // unit before the bytecode on 3.11/3.12.
    const offset_bytes: isize = @bitCast((raw.key & key_position_mask) -% bytecode);
    const firsttraceable_units = load(i32, code + table.code_co_firsttraceable.?);
    const incomplete = owner != table.owner_generator.? and
        offset_bytes < @as(isize, firsttraceable_units) * 2;
    if (incomplete) return null;
    const is_entry = if (table.iframe_is_entry != null)
        flags & 0xff != 0
    else if (caller) |outer|
        @as(u8, @truncate(outer.key >> key_flags_shift)) == table.owner_cstack.?
    else
        false;
    assert(code != 0);
    return .{
        .code = code,
        .instr_offset_bytes = if (offset_bytes < 0)
            -1
        else
            @intCast(@min(offset_bytes, std.math.maxInt(i32))),
        .is_entry = is_entry,
    };
}

/// Cheap identity of a code object, so the engine's intern table can detect an address reused by a
/// different code object (e.g. hash of name/filename/linetable pointers and first line).
/// Returns 0 for anything that is not a code object (or before init).
pub fn codeIdentity(code: usize) u64 {
    const table = active orelse return 0;
    if (!isCode(table, code)) return 0;
    // Each field times its own odd constant, rotated apart, then one full mix: interning pays
    // this on every pushed frame, so one mix instead of one per field.
    var hash: u64 = load(u64, code + table.code_co_name) *% 0x9E3779B97F4A7C15;
    hash ^= std.math.rotl(u64, load(u64, code + table.code_co_filename) *% 0xBF58476D1CE4E5B9, 17);
    hash ^= std.math.rotl(u64, load(u64, code + table.code_linetable) *% 0x94D049BB133111EB, 31);
    if (table.code_co_qualname) |offset| {
        hash ^= std.math.rotl(u64, load(u64, code + offset) *% 0xD6E8FEB86659FD93, 45);
    }
    // Bytecode length: ob_size (code units) from 3.11; the co_code bytes pointer before is covered
    // by the linetable pointer, which is created with it.
    const size: u64 = if (table.minor >= 11) load(u64, code + table.varobject_ob_size) else 0;
    const first_line: u64 = @as(u32, @bitCast(load(i32, code + table.code_co_firstlineno)));
    hash ^= (first_line | (size << 32)) *% 0xFF51AFD7ED558CCD;
    hash = mix(hash);
    assert(isCode(table, code));
    // 0 is reserved for "not a code object".
    return if (hash == 0) 1 else hash;
}

/// splitmix64's finalizer: every input bit affects every output bit.
fn mix(value: u64) u64 {
    var x = value;
    x = (x ^ (x >> 30)) *% 0xBF58476D1CE4E5B9;
    x = (x ^ (x >> 27)) *% 0x94D049BB133111EB;
    return x ^ (x >> 31);
}

/// Read a code object's fields. Strings are returned as UTF-8: ASCII compact strings point straight
/// into the object; other kinds (latin-1/UCS-2/UCS-4) are encoded into `scratch`. linetable is
/// co_lnotab (<=3.9) or co_linetable (>=3.10) bytes. Returns null if something is off (bounds).
/// Before 3.11 code objects have no co_qualname: qualname is then the name.
/// The slices that point into the object are valid only while the code object lives.
pub fn readCode(code: usize, scratch: []u8) ?CodeInfo {
    const table = active orelse return null;
    if (!isCode(table, code)) return null;
    const first_line = load(i32, code + table.code_co_firstlineno);
    if (first_line < 0) return null;
    var used_bytes: usize = 0;
    const name = readString(table, load(usize, code + table.code_co_name), scratch, &used_bytes) orelse
        return null;
    const qualname = if (table.code_co_qualname) |offset|
        readString(table, load(usize, code + offset), scratch, &used_bytes) orelse return null
    else
        name;
    const filename = readString(table, load(usize, code + table.code_co_filename), scratch, &used_bytes) orelse
        return null;
    const linetable = readBytes(table, load(usize, code + table.code_linetable)) orelse return null;
    assert(used_bytes <= scratch.len);
    return .{
        .first_line = @intCast(first_line),
        .name = name,
        .qualname = qualname,
        .filename = filename,
        .linetable = linetable,
    };
}

/// Type checks only (no encoding), for init's self-check.
fn codeLooksValid(table: *const Layout, code: usize) bool {
    assert(isCode(table, code));
    const name = load(usize, code + table.code_co_name);
    const filename = load(usize, code + table.code_co_filename);
    const linetable = load(usize, code + table.code_linetable);
    return name != 0 and load(usize, name + table.object_ob_type) == api.unicode_type and
        filename != 0 and load(usize, filename + table.object_ob_type) == api.unicode_type and
        linetable != 0 and load(usize, linetable + table.object_ob_type) == api.bytes_type;
}

fn readString(table: *const Layout, object: usize, scratch: []u8, used_bytes: *usize) ?[]const u8 {
    assert(used_bytes.* <= scratch.len);
    if (object == 0 or load(usize, object + table.object_ob_type) != api.unicode_type) return null;
    const length = load(isize, object + table.ascii_length);
    if (length < 0 or length > string_chars_max) return null;
    const length_chars: usize = @intCast(length);
    const state = load(u32, object + table.ascii_state);
    // Code object strings are always compact (created ready, usually interned); a legacy
    // (non-compact) string would keep its characters elsewhere.
    if (state & table.state_compact_mask == 0) return null;
    if (state & table.state_ascii_mask != 0) {
        const data: [*]const u8 = @ptrFromInt(object + table.ascii_sizeof);
        return data[0..length_chars];
    }
    const kind_bytes = (state >> @intCast(table.state_kind_shift)) & 7;
    if (kind_bytes != 1 and kind_bytes != 2 and kind_bytes != 4) return null;
    const data: [*]const u8 = @ptrFromInt(object + table.compact_sizeof);
    const start = used_bytes.*;
    const written_bytes = strings.encodeUtf8(kind_bytes, data, length_chars, scratch[start..]) orelse
        return null;
    used_bytes.* = start + written_bytes;
    assert(used_bytes.* <= scratch.len);
    return scratch[start..used_bytes.*];
}

fn readBytes(table: *const Layout, object: usize) ?[]const u8 {
    if (object == 0 or load(usize, object + table.object_ob_type) != api.bytes_type) return null;
    const size = load(isize, object + table.varobject_ob_size);
    if (size < 0 or size > linetable_bytes_max) return null;
    const data: [*]const u8 = @ptrFromInt(object + table.bytes_ob_sval);
    assert(table.bytes_ob_sval > table.varobject_ob_size);
    return data[0..@intCast(size)];
}

test "nothing is captured before init" {
    var frames: [8]Frame = undefined;
    try std.testing.expectEqual(@as(usize, 0), captureCurrentThread(&frames));
    try std.testing.expect(readCode(0x1000, &.{}) == null);
    try std.testing.expectEqual(@as(u64, 0), codeIdentity(0x1000));
}

test "no raw frames and no conversion before init" {
    var raw: [4]RawFrame = undefined;
    try std.testing.expectEqual(@as(usize, 0), walkRaw(&raw));
    try std.testing.expect(currentThread() == null);
    const frame = RawFrame{ .code = 0x1000, .key = 7 };
    try std.testing.expect(frameOf(&frame, null) == null);
    try std.testing.expect(!hasThreadState());
}

test "raw frames compare both words" {
    const a = RawFrame{ .code = 0x1000, .key = 0x2000 };
    const same = RawFrame{ .code = 0x1000, .key = 0x2000 };
    const other_position = RawFrame{ .code = 0x1000, .key = 0x2002 };
    const other_flags = RawFrame{ .code = 0x1000, .key = 0x2000 ^ (@as(u64, 3) << key_flags_shift) };
    try std.testing.expect(a.eql(&same));
    try std.testing.expect(!a.eql(&other_position));
    try std.testing.expect(!a.eql(&other_flags));
    try std.testing.expectEqual(@as(usize, 2 * 512 + skipped_frames_max), rawFramesFor(512));
}

test "init refuses versions without a table" {
    try std.testing.expect(!init(0x030800f0));
    try std.testing.expect(!init(0x030e00f0));
    try std.testing.expect(!init(0x020700f0));
}

test "init refuses a supported version when the C API is not in the process" {
    // This test binary does not contain libpython, so dlsym finds nothing.
    try std.testing.expect(!init(0x030c01f0));
    try std.testing.expect(active == null);
}

test {
    _ = layout;
    _ = strings;
}
