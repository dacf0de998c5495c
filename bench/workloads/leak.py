"""A growing leak: objects appended to a global list and never released."""
LEAKED = []


def remember(i):
    LEAKED.append(("record", i, bytearray(64), [i] * 4))


def main():
    for i in range(600_000):
        remember(i)
    print(len(LEAKED))


main()
