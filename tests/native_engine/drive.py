"""Runs one scenario inside the preloaded interpreter: memrayd_start, work, memrayd_stop."""
import ctypes
import json
import os
import signal
import sys

scenario, out, helper_path = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]
engine = ctypes.PyDLL(None)
engine.memrayd_last_error.restype = ctypes.c_char_p
helper = ctypes.CDLL(helper_path)
helper.bench.restype = ctypes.c_double
flags = int(os.environ.get("ENGINE_FLAGS", "0"))


def start():
    rc = engine.memrayd_start(out.encode(), flags, b'{"tool": "engine-test"}',
                              ctypes.c_uint64(sys.hexversion))
    if rc:
        sys.exit(f"start failed: {rc} {engine.memrayd_last_error()}")


def leaf():
    return bytearray(777_777)


def middle():
    return leaf()


def outer():
    return middle()


def top():
    return outer()


def sites(rounds):
    # Three allocation sites in one function: the top frame cycles through three offsets.
    for _ in range(rounds):
        a = bytearray(700_000)  # bytearray allocates n + 1 bytes
        b = bytearray(710_000)
        c = bytearray(720_000)
    return a, b, c


result = {}
if scenario == "bench":
    count = int(args[0])
    result["untracked_ns"] = helper.bench(count)
    start()
    result["tracked_ns"] = helper.bench(count)
    engine.memrayd_stop()
    print(json.dumps(result))
    sys.exit(0)
start()
if scenario == "alloc":
    slots = (ctypes.c_void_p * 10)()
    result["rc"] = helper.each_allocator(slots)
    result["addrs"] = [slots[i] or 0 for i in range(10)]
elif scenario == "errno":
    result["fails"] = helper.errno_checks()
elif scenario == "threads":
    result["rc"] = helper.run_threads(int(args[0]), int(args[1]))
elif scenario == "fork":
    pid = os.fork()
    if pid == 0:
        slots = (ctypes.c_void_p * 10)()
        helper.each_allocator(slots)
        engine.memrayd_stop()
        os._exit(0)
    os.waitpid(pid, 0)
    result["child"] = pid
elif scenario == "fork_exec":
    pid = os.fork()
    if pid == 0:
        os.execv("/bin/sh", ["sh", "-c", "exit 0"])
    os.waitpid(pid, 0)
    result["child"] = pid
elif scenario == "kill":
    slots = (ctypes.c_void_p * 10)()
    helper.each_allocator(slots)
    helper.run_threads(2, 1000)
    os.kill(os.getpid(), signal.SIGKILL)
elif scenario == "pystack":
    data = top()
    result["len"] = len(data)
elif scenario == "pytop":
    sites(int(args[0]))
elif scenario == "env":
    result["env"] = {k: v for k, v in os.environ.items() if k.startswith(("MEMRAYD", "LD_PRELOAD"))}
engine.memrayd_stop()
print(json.dumps(result))
