"""Temporaries: short-lived medium buffers allocated and freed in a loop."""


def main():
    checksum = 0
    for i in range(4_000_000):
        scratch = bytearray(1024 + (i % 7) * 512)
        scratch[0] = i & 0xFF
        checksum += scratch[0] + len(bytes(scratch[:256]))
    print(checksum)


main()
