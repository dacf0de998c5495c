"""Per-allocation micro benchmark: a tight loop of malloc+free pairs.

Two halves: bytearray(N) (CPython calls malloc/free for N > 512 bytes) and ctypes libc
malloc/free called directly. Prints ns per pair so a run can also be read on its own.
"""
import ctypes
import time

PAIRS = 1_000_000
SIZE_BYTES = 1024


def bytearray_pairs(n):
    for _ in range(n):
        bytearray(SIZE_BYTES)


def ctypes_pairs(n):
    libc = ctypes.CDLL(None)
    malloc = libc.malloc
    malloc.restype = ctypes.c_void_p
    malloc.argtypes = [ctypes.c_size_t]
    free = libc.free
    free.argtypes = [ctypes.c_void_p]
    for _ in range(n):
        free(malloc(SIZE_BYTES))


def main():
    start = time.perf_counter()
    bytearray_pairs(PAIRS)
    middle = time.perf_counter()
    ctypes_pairs(PAIRS)
    end = time.perf_counter()
    print(f"bytearray: {(middle - start) / PAIRS * 1e9:.0f} ns/pair, "
          f"ctypes malloc+free: {(end - middle) / PAIRS * 1e9:.0f} ns/pair")


main()
