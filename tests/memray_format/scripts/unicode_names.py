# Non-ASCII names in functions and arguments: memray's JSON escapes them (ensure_ascii).
def fünf_kb():
    return bytearray(5000)
kept = [fünf_kb() for _ in range(3)]
