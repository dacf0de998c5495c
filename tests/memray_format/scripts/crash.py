import os, signal
keep = []
def grow(n):
    for i in range(n):
        keep.append(bytearray(4096 + i))
grow(300)
os.kill(os.getpid(), signal.SIGKILL)
