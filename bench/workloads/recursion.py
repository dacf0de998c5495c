"""Call-heavy recursion with almost no allocations: the cost of any per-call hook shows here."""


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


print(fib(35))
