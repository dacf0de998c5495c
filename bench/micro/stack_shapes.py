"""Deterministic allocations under many stack shapes, for stack_equivalence.py: nested calls,
recursion deeper than the engine's 512 reported frames, generators, callbacks from C (entry
frames), exceptions, comprehensions, class bodies, re-entry at the same depth from other lines."""
import sys


def leaf(n):
    return bytearray(600 + n)


def nested(depth, n):
    if depth == 0:
        return leaf(n)
    return nested(depth - 1, n)


def generator(count):
    for i in range(count):
        yield leaf(i)


def raising(n):
    buffer = leaf(n)
    raise ValueError(len(buffer))


def same_depth_other_lines(n):
    a = nested(2, n)
    b = nested(2, n + 1)
    return len(a) + len(b)


class Built:
    data = [leaf(i) for i in range(3)]


def main():
    sys.setrecursionlimit(5000)
    total = 0
    for round_index in range(3):
        for depth in (0, 1, 5, 3, 40, 2, 600, 1, 900, 0):
            total += len(nested(depth, round_index))
        total += sum(len(block) for block in generator(5))
        total += sum(map(len, map(leaf, range(4))))
        total += len(sorted([3, 1, 2], key=lambda x: len(leaf(x))))
        for n in range(3):
            try:
                raising(n)
            except ValueError as error:
                total += error.args[0]
        total += same_depth_other_lines(round_index)
        total += len([leaf(i) for i in range(3)])
        total += len(Built.data)
    print(total)


main()
