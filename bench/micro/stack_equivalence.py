"""Checks that two engine builds record the same Python stacks: runs a deterministic script under
each library (LD_PRELOAD + the bootstrap), decodes both captures with the engine tests' decoder
and compares, event by event, (kind, size, stack as (qualname, filename, first_line, is_entry,
instr_offset)) of the main thread's allocations (mmap excepted). Allocation order itself varies
a little between runs on some versions (GC timing): rerun a FAIL before believing it. Exit status 1 on the first difference.
usage: python3 bench/micro/stack_equivalence.py BASE_LIB NEW_LIB [script] [config-extra-json]"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "native_engine"))
import decode  # noqa: E402


def capture(lib, script, extra, path):
    config = {"mode": "script", "target": script, "output": path, "force": True, "quiet": True}
    config.update(extra)
    env = dict(os.environ, LD_PRELOAD=lib, MEMRAYD_PRELOAD_RESTORE="", PYTHONHASHSEED="0")
    subprocess.run([sys.executable, os.path.join(ROOT, "python/memray_deno/bootstrap.py"),
                    json.dumps(config)], env=env, check=True, stdout=subprocess.DEVNULL)
    return decode.decode(path)


def stacks(result):
    codes = result["codes"]
    main_tid = min(e["tid"] for e in result["events"])
    rows = []
    for event in result["events"]:
        # mmap: obmalloc arenas come and go with timing (GC), not with the program's steps.
        if event["tid"] != main_tid or "py" not in event or event["kind"] == "mmap":
            continue
        stack = tuple((codes[cid]["qualname"], codes[cid]["filename"], codes[cid]["first_line"],
                       entry, offset) for cid, entry, offset in event["py"])
        rows.append((event["kind"], event["size"], stack))
    return rows


def main():
    base_lib, new_lib = sys.argv[1], sys.argv[2]
    script = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else os.path.join(HERE, "stack_shapes.py")
    extra = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    base = stacks(capture(base_lib, script, extra, "/tmp/stack_equivalence.base.bin"))
    new = stacks(capture(new_lib, script, extra, "/tmp/stack_equivalence.new.bin"))
    deepest = max(len(row[2]) for row in new) if new else 0
    for index, (a, b) in enumerate(zip(base, new)):
        if a != b:
            print(f"FAIL event {index}: base {a[:2]} depth {len(a[2])}, new {b[:2]} depth {len(b[2])}")
            for depth, (x, y) in enumerate(zip(a[2], b[2])):
                if x != y:
                    print(f"  first difference at depth {depth}: {x} vs {y}")
                    break
            sys.exit(1)
    if len(base) != len(new):
        print(f"FAIL event counts differ: base {len(base)}, new {len(new)}")
        sys.exit(1)
    print(f"ok   {len(new)} allocations, same stacks (deepest {deepest} frames)")


main()
