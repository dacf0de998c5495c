"""Four threads allocating at once (lists, dicts, small buffers)."""
import threading

THREADS = 4
ROUNDS = 400


def worker(seed, results):
    total = 0
    for r in range(ROUNDS):
        items = [{"k": i, "v": bytes(32)} for i in range(5_000)]
        total += len(items) + seed + r
    results[seed] = total


def main():
    results = [0] * THREADS
    threads = [threading.Thread(target=worker, args=(i, results)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(sum(results))


main()
