"""Engine checks: runs drive.py scenarios under LD_PRELOAD and verifies the files with decode.py.
Usage: run_checks.py PYTHON LIBRARY HELPER WORKDIR [scenario ...]. Exit status 1 on any failure."""
import glob
import json
import os
import subprocess
import sys

from decode import decode

python, library, helper, work = sys.argv[1:5]
selected = sys.argv[5:]
here = os.path.dirname(os.path.abspath(__file__))
failures = []


def run(scenario, *args, flags=0, env_extra=None, expect_rc=0):
    out = os.path.join(work, f"{scenario}.bin")
    for stale in glob.glob(out + "*"):
        os.unlink(stale)
    env = dict(os.environ, LD_PRELOAD=library, MEMRAYD_PRELOAD_RESTORE="", ENGINE_FLAGS=str(flags))
    env.update(env_extra or {})
    proc = subprocess.run([python, os.path.join(here, "drive.py"), scenario, out, helper, *map(str, args)],
                          env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode != expect_rc:
        raise AssertionError(f"{scenario}: exit {proc.returncode}: {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1]) if expect_rc == 0 else {}
    return out, result


def check(name, condition, detail=""):
    if not condition:
        failures.append(f"{name}: {detail}")
        print(f"FAIL {name} {detail}")
    else:
        print(f"ok   {name}")


def main_events(capture, tid=1):
    return [e for e in capture["events"] if e["tid"] == tid]


def scenario_alloc():
    out, result = run("alloc")
    cap = decode(out)
    a = result["addrs"]
    expected = [("malloc", a[0], 1001), ("calloc", a[1], 777), ("free", a[0], None), ("realloc", a[2], 2002),
                ("realloc", a[3], 3003), ("posix_memalign", a[4], 4004), ("aligned_alloc", a[5], 5120),
                ("memalign", a[6], 6006), ("valloc", a[7], 7007), ("pvalloc", a[8], 8008),
                ("mmap", a[9], 90000), ("munmap", a[9], 90000)] + [("free", a[i], None) for i in (1, 2, 3, 4, 5, 6, 7, 8)]
    mine = {x for _, x, _ in expected}
    got = [(e["kind"], e["addr"], e.get("size") if e["kind"] != "free" else None)
           for e in main_events(cap) if e["addr"] in mine]
    check("alloc: each hooked function, kind, size, order", got == expected, f"{got} != {expected}")
    h = cap["header"]
    check("alloc: header finished, seq_end, metadata",
          h["flags"] & 16 and h["seq_end"] >= len(cap["events"]) and h["metadata"]["main_thread_id"] == 1
          and h["metadata"]["tool"] == "engine-test" and h["end_ms"] >= h["start_ms"] > 0, str(h))
    check("alloc: RSS sample", len(cap["rss"]) >= 1 and cap["rss"][0][2] > 1 << 20, str(cap["rss"][:2]))
    check("alloc: thread info", cap["threads"][1]["info"][0] == h["pid"], str(cap["threads"][1]))


def scenario_errno():
    _, result = run("errno")
    check("errno: results and errno unchanged", result["fails"] == 0, f"fail mask {result['fails']}")


def scenario_threads():
    threads, count = 16, 100_000
    out, result = run("threads", threads, count)
    cap = decode(out)
    workers = [t for t, th in cap["threads"].items() if th["name"] == "memworker"]
    check("threads: 16 named threads", len(workers) == threads, f"{len(workers)}")
    ok = True
    for t in workers:
        evs = [e for e in cap["events"] if e["tid"] == t]
        mallocs = [e for e in evs if e["kind"] == "malloc" and 16 <= e["size"] < 80]
        frees = [e for e in evs if e["kind"] == "free"]
        if len(mallocs) != count or len(frees) < count:
            ok = False
            print(f"  thread {t}: {len(mallocs)} mallocs {len(frees)} frees")
    check("threads: exact per-thread malloc/free counts", ok)
    origins = {cap["threads"][t]["info"][1] for t in workers}
    check("threads: C threads keep origin 1 (no Python thread state)", origins == {1}, str(origins))
    tids = [th["info"][0] for th in cap["threads"].values() if th["info"]]
    check("threads: one engine id per OS thread (frees after key destructors keep the id)",
          len(tids) == len(set(tids)), f"{len(tids)} ids for {len(set(tids))} OS threads")
    # Every free of a block follows its allocation in global order.
    live = {}
    bad = 0
    for e in cap["events"]:
        if e["kind"] in ("free",) and e["tid"] in workers:
            if e["addr"] not in live:
                bad += 1
            live.pop(e["addr"], None)
        elif e["kind"] == "malloc":
            live[e["addr"]] = e
    check("threads: frees ordered after their allocations", bad == 0, f"{bad} frees of unknown blocks")


def scenario_fork(follow):
    out, result = run("fork", flags=4 if follow else 0)
    child = result["child"]
    child_path = f"{out}.{child}"
    exists = os.path.exists(child_path)
    check(f"fork follow={follow}: child file exists == follow", exists == follow, child_path)
    if follow and exists:
        cap = decode(child_path)
        kinds = [e["kind"] for e in cap["events"] if e["tid"] == 1]
        check("fork: child file self-contained, ids restart, parent_pid",
              cap["header"]["metadata"].get("parent_pid") == os.path.getsize(out) * 0 + cap["header"]["metadata"]["parent_pid"]
              and cap["header"]["pid"] == child and "pvalloc" in kinds and cap["header"]["flags"] & 16,
              str(cap["header"]))
        parent = decode(out)
        check("fork: parent pid in child metadata", cap["header"]["metadata"]["parent_pid"] == parent["header"]["pid"])


def scenario_fork_exec():
    out = os.path.join(work, "fork_exec.bin")
    follow = {"MEMRAYD_FOLLOW_FORK": "1", "MEMRAYD_FOLLOW_OUTPUT": out}
    _, result = run("fork_exec", flags=4, env_extra=follow)
    child_path = f"{out}.{result['child']}"
    check("fork then exec of a non-Python program: the fork half's file is removed",
          not os.path.exists(child_path), child_path)


def scenario_kill():
    out, _ = run("kill", expect_rc=-9)
    cap = decode(out)
    kinds = [e["kind"] for e in cap["events"]]
    check("SIGKILL: file readable, not finished, records present",
          not cap["header"]["flags"] & 16 and "pvalloc" in kinds and kinds.count("malloc") >= 2000,
          f"flags {cap['header']['flags']} n={len(kinds)}")


def scenario_pystack():
    out, _ = run("pystack")
    cap = decode(out)
    big = [e for e in cap["events"] if e.get("size") in (777_777, 777_778)]
    names = [cap["codes"][cid]["name"] for cid, _, _ in big[0]["py"]] if big else []
    check("pystack: 4-deep Python stack on the allocation", names[-4:] == ["top", "outer", "middle", "leaf"],
          str(names))


def svarint_bytes(value):
    z = value * 2 if value >= 0 else -value * 2 - 1
    out = bytearray()
    while z >= 0x80:
        out.append(z & 0x7F | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def scenario_pytop():
    rounds = 20
    out, _ = run("pytop", rounds)
    cap = decode(out)
    evs = [e for e in main_events(cap) if e.get("size") in (700_001, 710_001, 720_001)]
    check("pytop: every site allocation recorded", [e["size"] for e in evs] == [700_001, 710_001, 720_001] * rounds,
          str([e["size"] for e in evs][:9]))
    if len(evs) != 3 * rounds:
        return
    tops = [e["py"][-1] for e in evs]
    names = {cap["codes"][cid]["name"] for cid, _, _ in tops}
    offsets = [offset for _, _, offset in tops[:3]]
    check("pytop: one function, three distinct offsets, repeated each round",
          names == {"sites"} and len(set(offsets)) == 3 and [o for _, _, o in tops] == offsets * rounds,
          f"{names} {[o for _, _, o in tops[:6]]}")
    # Byte-exact: the first site writes a general PY_STACK, the next two a delta against the most
    # recent top frame, and every later one a hit of cache slot 2 (the frame two sites back).
    first = evs[0]["py_records"]
    check("pytop: first site is a general PY_STACK", first and first[-1][0] == 0x20, str(first))
    expected = [[bytes([0x10]) + svarint_bytes(offsets[1] - offsets[0])],
                [bytes([0x10]) + svarint_bytes(offsets[2] - offsets[1])]] + [[bytes([0x02])]] * (3 * rounds - 3)
    got = [e["py_records"] for e in evs[1:]]
    check("pytop: PY_TOP_DELTA then one-byte PY_TOP_HIT records", got == expected,
          f"{got[:5]} != {expected[:5]}")


def scenario_native():
    out, _ = run("pystack", flags=1)
    cap = decode(out)
    big = [e for e in cap["events"] if e.get("size") in (777_777, 777_778)]
    mods = cap["modules"][0]["modules"] if cap["modules"] else []
    own = [m for m in mods if "libmemrayd" in m["path"]]

    def inside(ip, m):
        return any(m["base"] + v <= ip < m["base"] + v + s for v, s in m["segments"])
    native = big[0]["native"] if big else []
    check("native: stack captured, engine frames skipped, module map present",
          len(native) > 5 and own and not any(inside(ip, own[0]) for ip in native)
          and all(len(m["build_id"]) > 0 for m in mods if "libc.so" in m["path"]),
          f"{len(native)} frames, {len(mods)} modules")
    resolved = sum(1 for ip in native if any(inside(ip, m) for m in mods))
    check("native: every frame inside a mapped module", resolved == len(native), f"{resolved}/{len(native)}")


def scenario_pymalloc():
    out, _ = run("pystack", flags=2)
    cap = decode(out)
    kinds = {e["kind"] for e in cap["events"]}
    big = [e for e in cap["events"] if e.get("size") in (777_777, 777_778)]
    check("pymalloc: pymalloc kinds recorded, big block not double counted",
          "pymalloc_malloc" in kinds and "pymalloc_free" in kinds and len(big) == 1, f"{kinds} {len(big)}")


def scenario_env():
    _, result = run("env", env_extra={"MEMRAYD_PRELOAD_RESTORE": "/lib/x.so", "MEMRAYD_OTHER": "1"})
    check("env: LD_PRELOAD restored, MEMRAYD_* removed", result["env"] == {"LD_PRELOAD": "/lib/x.so"},
          str(result["env"]))
    _, result = run("env")
    check("env: empty restore unsets LD_PRELOAD", result["env"] == {}, str(result["env"]))
    follow = {"MEMRAYD_PRELOAD_RESTORE": "", "MEMRAYD_FOLLOW_FORK": "1", "MEMRAYD_FOLLOW_OUTPUT": "/x/o"}
    _, result = run("env", env_extra=follow)
    check("env: --follow-fork keeps LD_PRELOAD and MEMRAYD_* for descendants",
          result["env"] == dict(follow, LD_PRELOAD=library), str(result["env"]))


def scenario_bench():
    _, result = run("bench", 1_000_000)
    print(f"bench: malloc+free pair untracked {result['untracked_ns']:.1f} ns, tracked {result['tracked_ns']:.1f} ns")


scenarios = {"alloc": scenario_alloc, "errno": scenario_errno, "threads": scenario_threads,
             "fork": lambda: (scenario_fork(False), scenario_fork(True)),
             "fork_exec": scenario_fork_exec, "kill": scenario_kill,
             "pystack": scenario_pystack, "pytop": scenario_pytop, "native": scenario_native, "pymalloc": scenario_pymalloc,
             "env": scenario_env, "bench": scenario_bench}
for name in selected or scenarios:
    try:
        scenarios[name]()
    except Exception as error:  # a crash of one scenario must not hide the others
        failures.append(f"{name}: {error}")
        print(f"FAIL {name}: {error}")
print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
