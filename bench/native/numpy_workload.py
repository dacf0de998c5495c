"""A numpy workload for `--native` benchmarks: many allocations made by numpy's C code (array
creation, ufuncs, reductions, sorting, linear algebra, concatenation) from a few Python call
sites, so native stacks are deep and varied."""
import numpy as np


def build(n):
    a = np.arange(n, dtype=np.float64)
    b = np.sqrt(a) * 2.0 + 1.0
    return np.concatenate([a, b])


def crunch(rng, n):
    m = rng.standard_normal((n, n))
    v = m @ m.T
    s = np.sort(v, axis=1)
    return float(s.sum()) + float(np.linalg.norm(m))


def strings(n):
    words = np.array([f"w{i}" for i in range(n)])
    return np.unique(np.char.upper(words)).size


def main():
    rng = np.random.default_rng(0)
    total = 0.0
    for step in range(1000):
        total += build(1000 + step * 37).sum()
        total += crunch(rng, 20 + step % 40)
        if step % 10 == 0:
            total += strings(200 + step)
    print(f"{total:.3f}")


main()
