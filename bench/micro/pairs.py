"""Per-allocation cost under a fixed Python stack: N bytearray(1024) malloc/free pairs made at a
call depth of `nest` frames (default 10; the launcher adds about 7), so the walker sees a realistic
stack. argv: pairs [kind] [nest].

kind "malloc" (default): bytearray(1024), one libc malloc + free per pair.
kind "pymalloc": small tuples/dicts (pymalloc; counted only with --trace-python-allocators).
kind "temporaries": the loop body of bench/workloads/temporaries.py.
"""
import sys


def leaf_malloc(pairs):
    for _ in range(pairs):
        bytearray(1024)


def leaf_pymalloc(pairs):
    for i in range(pairs):
        {"a": i, "b": (i, i + 1)}


def leaf_temporaries(pairs):
    checksum = 0
    for i in range(pairs):
        scratch = bytearray(1024 + (i % 7) * 512)
        scratch[0] = i & 0xFF
        checksum += scratch[0] + len(bytes(scratch[:256]))
    return checksum


def nest(depth, leaf, pairs):
    if depth == 0:
        leaf(pairs)
        return
    nest(depth - 1, leaf, pairs)


def main():
    pairs = int(sys.argv[1])
    kind = sys.argv[2] if len(sys.argv) > 2 else "malloc"
    leaf = {"malloc": leaf_malloc, "pymalloc": leaf_pymalloc, "temporaries": leaf_temporaries}[kind]
    nest(int(sys.argv[3]) if len(sys.argv) > 3 else 10, leaf, pairs)


main()
