"""Large buffers: bytearray/bytes of 100 KB to 10 MB created and dropped (mmap-sized allocations)."""
SIZES_BYTES = [100_000, 1_000_000, 4_000_000, 10_000_000]
ROUNDS = 100


def main():
    checksum = 0
    for round_index in range(ROUNDS):
        for size_bytes in SIZES_BYTES:
            buffer = bytearray(size_bytes)
            buffer[round_index % size_bytes] = 1
            frozen = bytes(buffer[: size_bytes // 2])
            checksum += frozen[round_index % len(frozen)] + len(buffer)
    print(checksum)


main()
