# Small objects through pymalloc, a leak that survives to the end, and a temporary buffer.
leaked = {}
def build(n):
    for i in range(n):
        leaked[i] = [str(i) * 3, (i, i + 1)]
def temporary():
    return len(bytes(200000))
build(2000)
temporary()
del leaked[5]
