"""The big-capture workload (issue 4): ~10 M malloc'd buffers of 600-1100 B from 32 call sites at
depths 1-12, kept in a ring of 4096 live buffers replaced in shuffled order, so frees come out of
allocation order. Each `bytearray(n)` with n > 512 is exactly one malloc and, when replaced, one
free (pymalloc hands requests above 512 B to malloc), so the capture holds ~N allocation records.

Usage: python make.py [N]   (N allocations, default 10_000_000)
"""
import random
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
RING = 4096
BATCH = 16
TABLE = 65536
rng = random.Random(4)
SIZES = [rng.randrange(600, 1101) for _ in range(TABLE)]
SLOTS = [rng.randrange(RING) for _ in range(TABLE)]
ring = [None] * RING

def site_00(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_01(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_02(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_03(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_04(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_05(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_06(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_07(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_08(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_09(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_10(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_11(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_12(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_13(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_14(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_15(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_16(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_17(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_18(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_19(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_20(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_21(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_22(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_23(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_24(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_25(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_26(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_27(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_28(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_29(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_30(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

def site_31(k):
    for t in range(k, k + BATCH):
        ring[SLOTS[t & 65535]] = bytearray(SIZES[t & 65535])

SITES = [site_00, site_01, site_02, site_03, site_04, site_05, site_06, site_07, site_08, site_09, site_10, site_11, site_12, site_13, site_14, site_15, site_16, site_17, site_18, site_19, site_20, site_21, site_22, site_23, site_24, site_25, site_26, site_27, site_28, site_29, site_30, site_31]
DEPTHS = [1 + (i * 5) % 12 for i in range(32)]


def descend(depth, site, k):
    if depth > 1:
        return descend(depth - 1, site, k)
    return site(k)


def main():
    for batch in range(N // BATCH):
        s = (batch * 7) % 32
        descend(DEPTHS[s], SITES[s], batch * BATCH)
    ring[:] = [None] * RING


main()
