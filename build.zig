//! Builds the capture engine `zig-out/lib/libmemrayd.so` (LD_PRELOAD interposer) and the
//! report-time library `zig-out/lib/libmemrayd_report.so` (driven through Deno FFI, lib/ffi.ts).
//! `zig build test-report` runs the report library's unit tests.
//! `zig build -Doptimize=ReleaseFast` is what scripts/setup.sh runs.
const std = @import("std");

pub fn build(b: *std.Build) void {
    // glibc 2.17 so the library loads on old distributions (it then needs only glibc >= 2.14).
    const target = b.standardTargetOptions(.{ .default_target = .{
        .cpu_arch = .x86_64,
        .os_tag = .linux,
        .abi = .gnu,
        .glibc_version = .{ .major = 2, .minor = 17, .patch = 0 },
    } });
    const optimize = b.standardOptimizeOption(.{});

    // The Python frame walker (native/python/) is its own module: the engine and its tests share it.
    const walker = b.createModule(.{
        .root_source_file = b.path("native/python/walker.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .pic = true,
    });

    const engine = b.createModule(.{
        .root_source_file = b.path("native/engine/lib.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .pic = true,
        // Unwinding through the engine's own frames and libunwind's needs frame info, not pointers.
        .omit_frame_pointer = false,
        .imports = &.{.{ .name = "walker", .module = walker }},
    });
    engine.addIncludePath(b.path(".tools/libunwind/include"));
    // Static PIC libunwind: the .so must need nothing but libc at run time.
    engine.addObjectFile(b.path(".tools/libunwind/lib/libunwind.a"));

    const lib = b.addLibrary(.{
        .name = "memrayd",
        .linkage = .dynamic,
        .root_module = engine,
        // Zig 0.15.2's self-hosted backend miscompiles PIC code paths we rely on (TOOLCHAIN.md).
        .use_llvm = true,
    });
    lib.build_id = .fast;
    b.installArtifact(lib);

    // Report-time native code (LZ4 frames, later symbolization). Never preloaded: it must not
    // export allocator symbols, so it shares no module with the engine.
    const report = b.createModule(.{
        .root_source_file = b.path("native/report/lib.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .pic = true,
    });
    const report_lib = b.addLibrary(.{
        .name = "memrayd_report",
        .linkage = .dynamic,
        .root_module = report,
        .use_llvm = true,
    });
    report_lib.build_id = .fast;
    b.installArtifact(report_lib);

    const report_tests = b.addTest(.{ .root_module = b.createModule(.{
        .root_source_file = b.path("native/report/lib.zig"),
        .target = b.graph.host,
        .optimize = optimize,
    }) });
    const test_report = b.step("test-report", "Run the report library's unit tests");
    test_report.dependOn(&b.addRunArtifact(report_tests).step);
}
