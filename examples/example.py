"""A small program to profile: allocations in a few functions, a worker thread and a leak.

    deno run -A main.ts run -f -o /tmp/example.bin examples/example.py
    deno run -A main.ts stats /tmp/example.bin
"""

import threading

_LEAKED = []  # grows and is never cleared: shows up in a leaks report


def make_buffers(count, size_bytes):
    """Temporary buffers, freed when the list goes away."""
    buffers = [bytearray(size_bytes) for _ in range(count)]
    return sum(len(buffer) for buffer in buffers)


def build_table(rows):
    """Many small objects: dicts and strings."""
    return {str(key): [key] * 8 for key in range(rows)}


def leak(size_bytes):
    _LEAKED.append(bytearray(size_bytes))


def worker(name, results):
    results[name] = make_buffers(count=20, size_bytes=64 * 1024)


def main():
    results = {}
    thread = threading.Thread(target=worker, args=("worker", results), name="example-worker")
    thread.start()
    total = make_buffers(count=10, size_bytes=1024 * 1024)
    table = build_table(rows=20_000)
    for _ in range(5):
        leak(256 * 1024)
    thread.join()
    print(
        "allocated %d MiB in main, %d KiB in the worker, %d table rows, leaked %d KiB"
        % (total >> 20, results["worker"] >> 10, len(table), sum(map(len, _LEAKED)) >> 10)
    )


if __name__ == "__main__":
    main()
