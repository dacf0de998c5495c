//! Interned stacks of a fold, with the ids lib/capture/stack_tree.ts would hand out for the same
//! records in the same order: frames get dense ids in order of first use, and every stack is a
//! node of a prefix tree (node 0 the empty stack), numbered in order of creation. The TypeScript
//! side rebuilds its StackTree and frame tables from these arrays by replaying them in order.
const std = @import("std");
const assert = std.debug.assert;
const Allocator = std.mem.Allocator;

/// A Python frame as written: `raw` is `(code_id << 1) | is_entry_frame`.
pub const PyFrame = struct {
    raw: u64,
    offset: i64,
};

const PyChildKey = struct {
    parent: u32,
    frame: PyFrame,
};

const NativeChildKey = struct {
    parent: u32,
    ip: u64,
};

/// murmur3's 64-bit finalizer: every input bit reaches the high bits (the map's fingerprints)
/// and the low bits (its slots).
fn fmix(x: u64) u64 {
    var h = x;
    h ^= h >> 33;
    h *%= 0xff51afd7ed558ccd;
    h ^= h >> 33;
    h *%= 0xc4ceb9fe1a85ec53;
    h ^= h >> 33;
    return h;
}

/// Cheap hashing for the interning maps (one per pushed frame): integer mixing, not wyhash.
const KeyContext = struct {
    pub fn hash(_: KeyContext, key: anytype) u64 {
        return switch (@TypeOf(key)) {
            PyFrame => fmix(key.raw ^ fmix(@bitCast(key.offset))),
            PyChildKey => fmix(key.frame.raw ^ fmix(@as(u64, @bitCast(key.frame.offset)) ^ (@as(u64, key.parent) << 32))),
            NativeChildKey => fmix(key.ip ^ fmix(key.parent)),
            u64 => fmix(key),
            else => @compileError("no hash for this key"),
        };
    }

    pub fn eql(_: KeyContext, a: anytype, b: @TypeOf(a)) bool {
        return std.meta.eql(a, b);
    }
};

fn Map(comptime K: type) type {
    return std.HashMapUnmanaged(K, u32, KeyContext, std.hash_map.default_max_load_percentage);
}

/// A direct-mapped cache in front of a child map: the few (parent, frame) pairs a program's
/// stack records repeat most cost one hash and one compare.
fn ChildCache(comptime K: type) type {
    return struct {
        const Self = @This();
        const slots = 1 << 12;
        const Entry = struct { key: K, child: u32 };
        entries: []Entry,

        fn init(gpa: Allocator) Allocator.Error!Self {
            const entries = try gpa.alloc(Entry, slots);
            // Child 0 (the root) is never anyone's child: it marks an empty entry.
            for (entries) |*e| e.child = 0;
            return .{ .entries = entries };
        }

        fn deinit(self: *Self, gpa: Allocator) void {
            gpa.free(self.entries);
        }

        fn slot(self: *Self, key: K) *Entry {
            const h = KeyContext.hash(.{}, key);
            return &self.entries[@intCast(h & (slots - 1))];
        }
    };
}

/// A prefix tree: node 0 is the empty stack (parent and frame -1).
pub const Tree = struct {
    parent: std.ArrayListUnmanaged(i32) = .empty,
    frame: std.ArrayListUnmanaged(i32) = .empty,

    fn init(gpa: Allocator) Allocator.Error!Tree {
        var tree: Tree = .{};
        try tree.parent.append(gpa, -1);
        try tree.frame.append(gpa, -1);
        return tree;
    }

    fn deinit(self: *Tree, gpa: Allocator) void {
        self.parent.deinit(gpa);
        self.frame.deinit(gpa);
    }

    fn add(self: *Tree, gpa: Allocator, parent: u32, frame_id: u32) Allocator.Error!u32 {
        assert(parent < self.parent.items.len);
        assert(self.parent.items.len == self.frame.items.len);
        if (self.parent.items.len >= std.math.maxInt(i32)) return error.OutOfMemory;
        const node: u32 = @intCast(self.parent.items.len);
        try self.parent.append(gpa, @intCast(parent));
        try self.frame.append(gpa, @intCast(frame_id));
        return node;
    }

    pub fn count(self: *const Tree) usize {
        return self.parent.items.len;
    }
};

pub const Stacks = struct {
    gpa: Allocator,
    py_frames: std.ArrayListUnmanaged(PyFrame) = .empty,
    py_frame_ids: Map(PyFrame) = .empty,
    py_tree: Tree,
    /// (parent node, frame as written) -> child node: one probe per pushed frame.
    py_children: Map(PyChildKey) = .empty,
    py_cache: ChildCache(PyChildKey),
    native_ips: std.ArrayListUnmanaged(u64) = .empty,
    native_ip_ids: Map(u64) = .empty,
    native_tree: Tree,
    native_children: Map(NativeChildKey) = .empty,
    native_cache: ChildCache(NativeChildKey),

    pub fn init(gpa: Allocator) Allocator.Error!Stacks {
        var py_tree = try Tree.init(gpa);
        errdefer py_tree.deinit(gpa);
        var native_tree = try Tree.init(gpa);
        errdefer native_tree.deinit(gpa);
        var py_cache = try ChildCache(PyChildKey).init(gpa);
        errdefer py_cache.deinit(gpa);
        const native_cache = try ChildCache(NativeChildKey).init(gpa);
        return .{
            .gpa = gpa,
            .py_tree = py_tree,
            .native_tree = native_tree,
            .py_cache = py_cache,
            .native_cache = native_cache,
        };
    }

    pub fn deinit(self: *Stacks) void {
        self.py_frames.deinit(self.gpa);
        self.py_frame_ids.deinit(self.gpa);
        self.py_tree.deinit(self.gpa);
        self.py_children.deinit(self.gpa);
        self.native_ips.deinit(self.gpa);
        self.native_ip_ids.deinit(self.gpa);
        self.native_tree.deinit(self.gpa);
        self.native_children.deinit(self.gpa);
        self.py_cache.deinit(self.gpa);
        self.native_cache.deinit(self.gpa);
    }

    /// The node of `parent`'s Python stack with `frame` pushed on top.
    pub fn push_python(self: *Stacks, parent: u32, frame: PyFrame) Allocator.Error!u32 {
        assert(parent < self.py_tree.count());
        const key: PyChildKey = .{ .parent = parent, .frame = frame };
        const cached = self.py_cache.slot(key);
        if (cached.child != 0 and std.meta.eql(cached.key, key)) return cached.child;
        const child = try self.py_children.getOrPut(self.gpa, key);
        if (child.found_existing) {
            cached.* = .{ .key = key, .child = child.value_ptr.* };
            return child.value_ptr.*;
        }
        errdefer _ = self.py_children.remove(.{ .parent = parent, .frame = frame });
        const id = try self.py_frame_ids.getOrPut(self.gpa, frame);
        if (!id.found_existing) {
            errdefer _ = self.py_frame_ids.remove(frame);
            id.value_ptr.* = @intCast(self.py_frames.items.len);
            try self.py_frames.append(self.gpa, frame);
        }
        // A (parent, frame) pair is new exactly when its child key was: frames and their raw
        // form correspond one to one.
        child.value_ptr.* = try self.py_tree.add(self.gpa, parent, id.value_ptr.*);
        assert(child.value_ptr.* > parent);
        cached.* = .{ .key = key, .child = child.value_ptr.* };
        return child.value_ptr.*;
    }

    /// The node of `parent`'s native stack with return address `ip` pushed on top.
    pub fn push_native(self: *Stacks, parent: u32, ip: u64) Allocator.Error!u32 {
        assert(parent < self.native_tree.count());
        const key: NativeChildKey = .{ .parent = parent, .ip = ip };
        const cached = self.native_cache.slot(key);
        if (cached.child != 0 and std.meta.eql(cached.key, key)) return cached.child;
        const child = try self.native_children.getOrPut(self.gpa, key);
        if (child.found_existing) {
            cached.* = .{ .key = key, .child = child.value_ptr.* };
            return child.value_ptr.*;
        }
        errdefer _ = self.native_children.remove(.{ .parent = parent, .ip = ip });
        const id = try self.native_ip_ids.getOrPut(self.gpa, ip);
        if (!id.found_existing) {
            errdefer _ = self.native_ip_ids.remove(ip);
            id.value_ptr.* = @intCast(self.native_ips.items.len);
            try self.native_ips.append(self.gpa, ip);
        }
        child.value_ptr.* = try self.native_tree.add(self.gpa, parent, id.value_ptr.*);
        assert(child.value_ptr.* > parent);
        cached.* = .{ .key = key, .child = child.value_ptr.* };
        return child.value_ptr.*;
    }
};
