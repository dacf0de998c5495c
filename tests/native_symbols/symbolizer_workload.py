"""Workload of symbolizer_bench.ts: allocations from many native code paths (what a numpy-style
program does: deep C stacks in many modules), so a --native capture holds many distinct ips."""
import array, bz2, collections, decimal, hashlib, json, lzma, re, sqlite3, struct, zlib

keep = []
for round_ in range(30):
    data = bytes(range(256)) * (64 + round_)
    keep.append(zlib.compress(data, round_ % 9 + 1))
    keep.append(bz2.compress(data[: 4096 + round_]))
    keep.append(lzma.compress(data[:2048]))
    keep.append(hashlib.sha256(data).digest())
    keep.append(json.dumps({str(i): [i, str(i) * 3, {"x": i}] for i in range(200)}))
    keep.append(json.loads(keep[-1]))
    keep.append(re.findall(r"(\w+)-(\d+)", " ".join(f"k{i}-{i}" for i in range(300))))
    keep.append([decimal.Decimal(i) / 7 for i in range(200)])
    keep.append(array.array("d", range(5000 + round_)))
    keep.append(struct.pack("<" + "q" * 500, *range(500)))
    keep.append(collections.Counter(str(i % 97) for i in range(3000)))
    db = sqlite3.connect(":memory:")
    db.execute("create table t (a, b)")
    db.executemany("insert into t values (?, ?)", ((i, str(i) * 5) for i in range(500)))
    keep.append(db.execute("select * from t order by b").fetchall())
    db.close()
    if len(keep) > 200:
        del keep[:100]
