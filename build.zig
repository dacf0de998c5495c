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
    // The symbolizer (native/symbolize/) is its own module; lib.zig exports its C ABI.
    report.addImport("symbolize", symbolizeModule(b, target, optimize));
    const report_lib = b.addLibrary(.{
        .name = "memrayd_report",
        .linkage = .dynamic,
        .root_module = report,
        .use_llvm = true,
    });
    report_lib.build_id = .fast;
    b.installArtifact(report_lib);

    // libc: the fold (memrayd_fold_capture) allocates with its malloc.
    const report_tests = b.addTest(.{ .root_module = b.createModule(.{
        .root_source_file = b.path("native/report/lib.zig"),
        .target = b.graph.host,
        .optimize = optimize,
        .link_libc = true,
    }) });
    report_tests.root_module.addImport("symbolize", symbolizeModule(b, b.graph.host, optimize));
    const test_report = b.step("test-report", "Run the report library's unit tests");
    test_report.dependOn(&b.addRunArtifact(report_tests).step);

    // `zig build bench-fold -Doptimize=ReleaseFast -- CAPTURE`: the native fold's CPU time alone.
    const fold_bench = b.addExecutable(.{ .name = "fold_bench", .root_module = b.createModule(.{
        .root_source_file = b.path("native/report/fold_bench.zig"),
        .target = b.graph.host,
        .optimize = optimize,
        .link_libc = true,
    }) });
    const run_fold_bench = b.addRunArtifact(fold_bench);
    if (b.args) |args| run_fold_bench.addArgs(args);
    b.step("bench-fold", "Time the native fold on an uncompressed capture").dependOn(&run_fold_bench.step);

    const symbolize_tests = b.addTest(.{ .root_module = symbolizeModule(b, b.graph.host, optimize) });
    const test_symbolize = b.step("test-symbolize", "Run the symbolizer's unit tests (native/symbolize)");
    test_symbolize.dependOn(&b.addRunArtifact(symbolize_tests).step);
}

/// native/symbolize/ as a module, with libc++abi's demangler (`__cxa_demangle`, compiled alone
/// from Zig's libc++abi sources: linking all of libc++ would export operator new/delete).
fn symbolizeModule(b: *std.Build, target: std.Build.ResolvedTarget, optimize: std.builtin.OptimizeMode) *std.Build.Module {
    const module = b.createModule(.{
        .root_source_file = b.path("native/symbolize/root.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .pic = true,
    });
    const zig_lib = b.graph.zig_lib_directory.path orelse ".";
    module.addIncludePath(.{ .cwd_relative = b.pathJoin(&.{ zig_lib, "libcxxabi", "include" }) });
    // -I, not -isystem: libc++ headers must come before the libc ones Zig adds.
    module.addIncludePath(.{ .cwd_relative = b.pathJoin(&.{ zig_lib, "libcxx", "include" }) });
    // The libc++ configuration `zig c++` passes (Zig ships no __config_site); header-only use.
    module.addCSourceFile(.{
        .file = .{ .cwd_relative = b.pathJoin(&.{ zig_lib, "libcxxabi", "src", "cxa_demangle.cpp" }) },
        .flags = &.{
            "-std=c++17",
            "-fno-exceptions",
            "-fno-rtti",
            "-fvisibility=hidden",
            "-DNDEBUG",
            "-nostdinc++",
            "-D_LIBCPP_ABI_VERSION=1",
            "-D_LIBCPP_ABI_NAMESPACE=__1",
            "-D_LIBCPP_HAS_THREADS=1",
            "-D_LIBCPP_HAS_MONOTONIC_CLOCK",
            "-D_LIBCPP_HAS_TERMINAL",
            "-D_LIBCPP_HAS_MUSL_LIBC=0",
            "-D_LIBCXXABI_DISABLE_VISIBILITY_ANNOTATIONS",
            "-D_LIBCPP_DISABLE_VISIBILITY_ANNOTATIONS",
            "-D_LIBCPP_HAS_VENDOR_AVAILABILITY_ANNOTATIONS=0",
            "-D_LIBCPP_HAS_LOCALIZATION",
            "-D_LIBCPP_HAS_UNICODE",
            "-D_LIBCPP_HAS_WIDE_CHARACTERS",
            "-D_LIBCPP_HAS_NO_STD_MODULES",
            "-D_LIBCPP_PSTL_BACKEND_SERIAL",
            "-D_LIBCPP_HARDENING_MODE=_LIBCPP_HARDENING_MODE_NONE",
        },
    });
    return module;
}
