"""Many small objects: lists, dicts and tuples built and dropped in batches (pymalloc-heavy)."""
ROUNDS = 250
BATCH = 10_000


def build(n):
    rows = []
    for i in range(n):
        rows.append({"id": i, "pair": (i, str(i)), "tags": [i, i + 1, i + 2]})
    return rows


def main():
    total = 0
    for _ in range(ROUNDS):
        rows = build(BATCH)
        total += len(rows[-1]["tags"])
    print(total)


main()
