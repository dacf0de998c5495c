import threading
def leaf(n):
    return bytearray(n)
def middle(n):
    keep.append(leaf(n))
    return leaf(n * 2)
keep = []
def worker():
    for i in range(50):
        middle(1000 + i)
t = threading.Thread(target=worker, name="worker-1")
t.start(); t.join()
for i in range(20):
    middle(100000)
import mmap
m = mmap.mmap(-1, 1 << 20)
m[0] = 1
