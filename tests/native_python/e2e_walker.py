"""End-to-end check of native/python/walker.zig inside a real interpreter.

Usage: e2e_walker.py LIBRARY [--bench-max-ns N]
Loads the test library (walker_testlib.zig) with ctypes.PyDLL, captures the stack from inside
4-deep call chains (plain calls, a call through C `map`, a generator resumed by `next`, a closure
with cell variables) whose function and file names are ASCII, latin-1, UCS-2 and UCS-4, on the
main thread and on threading.Thread, and compares every captured frame with sys._getframe()
truth: code object, names, filename, first line, line table bytes, line of the instruction offset
(callers: their call site), exact f_lasti for callers, is_entry. Exits 1 on any mismatch.
"""
import ctypes
import dis
import struct
import sys
import threading

LIBRARY = sys.argv[1]
BENCH_MAX_NS = float(sys.argv[sys.argv.index("--bench-max-ns") + 1]) if "--bench-max-ns" in sys.argv else None
VERSION = sys.version_info[:2]
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


lib = ctypes.PyDLL(LIBRARY)
lib.walker_test_init.argtypes = [ctypes.c_uint64]
lib.walker_test_capture.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
lib.walker_test_capture.restype = ctypes.c_ssize_t
lib.walker_test_read_code.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
lib.walker_test_identity.argtypes = [ctypes.c_size_t]
lib.walker_test_identity.restype = ctypes.c_uint64
lib.walker_test_capture_count.argtypes = [ctypes.c_size_t]
lib.walker_test_capture_count.restype = ctypes.c_size_t
lib.walker_test_bench_ns.argtypes = [ctypes.c_uint64]
lib.walker_test_bench_ns.restype = ctypes.c_double

# Before init nothing may be captured.
check(lib.walker_test_capture_count(64) == 0, "frames captured before init")
if not lib.walker_test_init(sys.hexversion):
    print(f"FAIL: walker init refused {sys.version}")
    sys.exit(1)


def capture():
    buffer = ctypes.create_string_buffer(1 << 20)
    size = lib.walker_test_capture(buffer, len(buffer))
    assert size >= 0, "capture buffer too small"
    return parse(buffer.raw[:size])


def parse_capture(buffer, size):
    assert size >= 0, "capture buffer too small"
    return parse(buffer.raw[:size])


def parse(data):
    (count,), position = struct.unpack_from("<I", data), 4
    frames = []
    for _ in range(count):
        code, offset, entry, identity, ok = struct.unpack_from("<QiBQB", data, position)
        position += 22
        frame = {"code": code, "offset": offset, "entry": bool(entry), "identity": identity, "info": None}
        if ok:
            (first_line,) = struct.unpack_from("<I", data, position)
            position += 4
            fields = []
            for _ in range(4):
                (length,) = struct.unpack_from("<I", data, position)
                fields.append(data[position + 4:position + 4 + length])
                position += 4 + length
            frame["info"] = (first_line, *fields)
        frames.append(frame)
    assert position == len(data)
    return frames


def line_of_offset(code, offset):
    """The line CPython attributes to the instruction at byte `offset`."""
    if offset < 0:
        return code.co_firstlineno
    if VERSION >= (3, 11):
        return list(code.co_positions())[offset // 2][0]
    if VERSION >= (3, 10):
        for start, end, line in code.co_lines():
            if start <= offset < end:
                return line
        return None
    line = None
    for start, start_line in dis.findlinestarts(code):
        if start > offset:
            break
        line = start_line
    return line


def utf8(text):
    # The walker writes U+FFFD for a lone surrogate so its output is always valid UTF-8.
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text).encode()


TEMPLATE = '''
import sys

class Holder:
    @staticmethod
    def {n3}(capture):
        def {n4}():
            frame = sys._getframe(); lineno = frame.f_lineno; size = capture[0](capture[1], capture[2])
            return collect_truth(frame, lineno), parse_capture(capture[1], size)
        yield {n4}()

def {n2}(capture):
    return next(Holder.{n3}(capture))

def {n1}(capture):
    return list(map({n2}, [capture]))[0]
'''

VARIANTS = {
    "ascii": (["level1", "level2", "level3", "level4"], "<e2e>/chain_ascii.py"),
    "latin1": (["niv\u00e8au1", "\u00f1ame2", "gr\u00fcn3", "\u00e7\u00e04"], "/tmp/d\u00e4tei_\u00e9.py"),
    "ucs2": (["\u51fd\u6570\u4e00", "\u0444\u0443\u043d\u043a\u04462", "\u95a2\u65703", "\u03bb4"],
             "/tmp/\u8def\u5f84/\u0444\u0430\u0439\u043b.py"),
    "ucs4": (["\U00020000\u4e00", "\U000104002", "x\U00020001", "\U00010401\u00e9"], "/tmp/\U00020000.py"),
    "surrogate_file": (["s1", "s2", "s3", "s4"], "/tmp/bad\udcff.py"),
}


def build_chain(variant):
    names, filename = VARIANTS[variant]
    namespace = {"collect_truth": collect_truth, "parse_capture": parse_capture}
    source = TEMPLATE.format(n1=names[0], n2=names[1], n3=names[2], n4=names[3])
    exec(compile(source, filename, "exec"), namespace)
    return namespace[names[0]], names


class Truth:
    """What sys._getframe() says about one frame at the moment of the capture."""

    def __init__(self, frame, line):
        self.f_code = frame.f_code
        self.f_lineno = line
        self.f_lasti = frame.f_lasti


def collect_truth(innermost, capture_line):
    # Called right after the capture: the callers are still suspended at their call sites.
    truth = [Truth(innermost, capture_line)]
    frame = innermost.f_back
    while frame is not None:
        truth.append(Truth(frame, frame.f_lineno))
        frame = frame.f_back
    return truth


def run_variant(variant, where):
    entry_function, names = build_chain(variant)
    buffer = ctypes.create_string_buffer(1 << 20)
    truth, frames = entry_function((lib.walker_test_capture, buffer, len(buffer)))
    capture_line = truth[0].f_lineno
    label = f"{variant}/{where}"
    check(len(frames) == len(truth),
          f"{label}: captured {len(frames)} frames, sys._getframe chain has {len(truth)}: "
          f"{[f['info'][1] if f['info'] else None for f in frames]} vs {[f.f_code.co_name for f in truth]}")
    for index, (captured, real) in enumerate(zip(frames, truth)):
        code = real.f_code
        where_frame = f"{label} frame {index} ({code.co_name})"
        check(captured["code"] == id(code), f"{where_frame}: code {captured['code']:#x} != {id(code):#x}")
        info = captured["info"]
        check(info is not None, f"{where_frame}: readCode failed")
        if info is None:
            continue
        first_line, name, qualname, filename, linetable = info
        check(first_line == code.co_firstlineno, f"{where_frame}: first line {first_line}")
        check(name == utf8(code.co_name), f"{where_frame}: name {name!r}")
        expected_qualname = code.co_qualname if VERSION >= (3, 11) else code.co_name
        check(qualname == utf8(expected_qualname), f"{where_frame}: qualname {qualname!r}")
        check(filename == utf8(code.co_filename), f"{where_frame}: filename {filename!r}")
        expected_table = code.co_linetable if VERSION >= (3, 10) else code.co_lnotab
        check(linetable == expected_table, f"{where_frame}: line table differs")
        expected_line = capture_line if index == 0 else real.f_lineno
        got_line = line_of_offset(code, captured["offset"])
        check(got_line == expected_line,
              f"{where_frame}: offset {captured['offset']} is line {got_line}, expected {expected_line}")
        if index > 0:
            check(captured["offset"] == real.f_lasti,
                  f"{where_frame}: offset {captured['offset']} != f_lasti {real.f_lasti}")
        check(captured["identity"] != 0 and captured["identity"] == lib.walker_test_identity(id(code)),
              f"{where_frame}: identity unstable")
    # is_entry: 3.11+ inlines Python-to-Python calls; calls through C (map, next) start a new
    # eval loop. Up to 3.10 every frame is an entry frame.
    expected_entry = {names[3]: False, names[2]: True, names[1]: True, names[0]: False}
    for captured, real in zip(frames, truth):
        name = real.f_code.co_name
        if name in expected_entry:
            expected = True if VERSION < (3, 11) else expected_entry[name]
            check(captured["entry"] == expected, f"{label} {name}: is_entry {captured['entry']}, expected {expected}")
    names_seen = [real.f_code.co_name for real in truth[:4]]
    check(names_seen == names[::-1], f"{label}: chain is {names_seen}")
    return frames


def check_read_code_bounds():
    def füé():
        pass
    code = füé.__code__
    check(lib.walker_test_read_code(id(code), 4096) == 1, "readCode failed with room")
    check(lib.walker_test_read_code(id(code), 2) == 0, "readCode ignored a short scratch buffer")
    check(lib.walker_test_read_code(id("not code"), 4096) == 0, "readCode accepted a str")
    check(lib.walker_test_identity(id(object())) == 0, "codeIdentity accepted a non-code object")
    other = compile("pass", "other.py", "exec")
    check(lib.walker_test_identity(id(other)) != lib.walker_test_identity(id(code)),
          "two code objects share an identity")


def check_truncation():
    def deep(level):
        if level == 0:
            return lib.walker_test_capture_count(3), lib.walker_test_capture_count(200)
        return deep(level - 1)
    truncated, full = deep(20)
    check(truncated == 3, f"capture into 3 slots returned {truncated}")
    check(full >= 21, f"deep capture returned {full} frames")


def bench(depth=25):
    """Average walk time with exactly `depth` Python frames on the stack."""
    def recurse(level):
        if level == 0:
            return lib.walker_test_capture_count(256), lib.walker_test_bench_ns(200000)
        return recurse(level - 1)
    # Here: capture + bench + callers; at the leaf: bench + callers + (level + 1) recurse frames.
    base = len(capture())
    return recurse(depth - base)


def main():
    for variant in VARIANTS:
        run_variant(variant, "main")
    results = {}

    def in_thread():
        try:
            for variant in ("ascii", "ucs2"):
                results[variant] = run_variant(variant, "thread")
        except Exception as error:  # a failure inside the thread must fail the test
            failures.append(f"thread raised {error!r}")

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()
    check(len(results) == 2, "thread test did not run")
    check(lib.walker_test_capture_in_c_thread() == 0, "a C thread without thread state got frames")
    check_read_code_bounds()
    check_truncation()
    frames, ns = bench()
    print(f"python {sys.version.split()[0]}: walk of {frames} frames takes {ns:.1f} ns")
    if BENCH_MAX_NS is not None:
        check(ns <= BENCH_MAX_NS, f"walk of {frames} frames took {ns:.1f} ns (> {BENCH_MAX_NS})")
    for failure in failures:
        print("FAIL", failure)
    if failures:
        sys.exit(1)
    print(f"python {sys.version.split()[0]}: walker end-to-end OK")


main()
