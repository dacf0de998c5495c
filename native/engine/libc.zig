//! The few libc functions the engine calls, declared here rather than taken from std.c so that no
//! declaration of malloc/free (which the engine exports) is ever pulled in.
pub const RTLD_NEXT: ?*anyopaque = @ptrFromInt(@as(usize, @bitCast(@as(isize, -1))));
pub const RTLD_DEFAULT: ?*anyopaque = null;

pub extern "c" fn dlsym(handle: ?*anyopaque, symbol: [*:0]const u8) ?*anyopaque;
pub extern "c" fn __errno_location() *c_int;
pub extern "c" fn getenv(name: [*:0]const u8) ?[*:0]const u8;
pub extern "c" fn setenv(name: [*:0]const u8, value: [*:0]const u8, overwrite: c_int) c_int;
pub extern "c" fn unsetenv(name: [*:0]const u8) c_int;
pub extern "c" var environ: ?[*:null]?[*:0]u8;

pub const pthread_key_t = c_uint;
pub const pthread_t = c_ulong;
pub extern "c" fn pthread_key_create(key: *pthread_key_t, destructor: ?*const fn (?*anyopaque) callconv(.c) void) c_int;
pub extern "c" fn pthread_getspecific(key: pthread_key_t) ?*anyopaque;
pub extern "c" fn pthread_setspecific(key: pthread_key_t, value: ?*const anyopaque) c_int;
pub extern "c" fn pthread_create(thread: *pthread_t, attr: ?*const anyopaque, start: *const fn (?*anyopaque) callconv(.c) ?*anyopaque, arg: ?*anyopaque) c_int;
pub extern "c" fn pthread_join(thread: pthread_t, result: ?*?*anyopaque) c_int;
pub extern "c" fn pthread_atfork(prepare: ?*const fn () callconv(.c) void, parent: ?*const fn () callconv(.c) void, child: ?*const fn () callconv(.c) void) c_int;

/// glibc's `struct dl_phdr_info` including the load/unload counters (size checked at run time).
pub const DlPhdrInfo = extern struct {
    addr: usize,
    name: ?[*:0]const u8,
    phdr: [*]const Elf64Phdr,
    phnum: u16,
    adds: u64,
    subs: u64,
    tls_modid: usize,
    tls_data: ?*anyopaque,
};
pub const Elf64Phdr = extern struct {
    p_type: u32,
    p_flags: u32,
    p_offset: u64,
    p_vaddr: u64,
    p_paddr: u64,
    p_filesz: u64,
    p_memsz: u64,
    p_align: u64,
};
pub const PT_LOAD: u32 = 1;
pub const PT_NOTE: u32 = 4;
pub const DlIterateCallback = *const fn (info: *const DlPhdrInfo, size: usize, data: ?*anyopaque) callconv(.c) c_int;
pub extern "c" fn dl_iterate_phdr(callback: DlIterateCallback, data: ?*anyopaque) c_int;

pub const DlInfo = extern struct {
    fname: ?[*:0]const u8,
    fbase: ?*anyopaque,
    sname: ?[*:0]const u8,
    saddr: ?*anyopaque,
};
pub extern "c" fn dladdr(address: *const anyopaque, info: *DlInfo) c_int;

pub extern "c" fn unw_backtrace(buffer: [*]?*anyopaque, size: c_int) c_int;

pub fn errnoGet() c_int {
    return __errno_location().*;
}
pub fn errnoSet(value: c_int) void {
    __errno_location().* = value;
}
