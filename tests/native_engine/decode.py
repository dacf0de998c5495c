"""Independent decoder of capture format v1 (docs/capture-format.md), live layout, for the engine
tests. Returns plain dicts; raises ValueError("Cannot parse capture ...") on malformed input."""
import json
import struct

ALLOCATORS = {1: "malloc", 2: "calloc", 3: "realloc", 4: "posix_memalign", 5: "aligned_alloc",
              6: "memalign", 7: "valloc", 8: "pvalloc", 9: "mmap", 10: "pymalloc_malloc",
              11: "pymalloc_calloc", 12: "pymalloc_realloc"}
DEALLOCATORS = {0x11: "free", 0x12: "munmap", 0x13: "pymalloc_free"}
# Event byte 1sssskkk: kind code of each inline code kkk (0: a kind byte follows).
INLINE_KINDS = [None, 0x01, 0x03, 0x11, 0x0A, 0x0B, 0x0C, 0x13]
MRU_SLOTS, MRU_MISS = 15, 15
PY_TOP_SLOTS = 16  # PY_TOP_HIT 0x00-0x0F; PY_TOP_DELTA 0x10


class Reader:
    def __init__(self, data, pos, end):
        self.data, self.pos, self.end = data, pos, end

    def byte(self):
        if self.pos >= self.end:
            raise ValueError("Cannot parse capture: record is truncated")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self):
        value = shift = 0
        for _ in range(10):
            b = self.byte()
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value
        raise ValueError("Cannot parse capture: varint too long")

    def svarint(self):
        v = self.varint()
        return (v >> 1) ^ -(v & 1)

    def bytes_(self):
        n = self.varint()
        if self.pos + n > self.end:
            raise ValueError("Cannot parse capture: bytes are truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out


def decode(path):
    data = open(path, "rb").read()
    if len(data) < 72 or data[:8] != b"MEMRAYDN":
        raise ValueError(f"Cannot parse capture {path}: header is truncated or magic is wrong")
    (version, header_size, flags, chunk_size, start_ms, end_ms, pid, hexversion, seq_end,
     meta_len, _res) = struct.unpack_from("<IIIIqqQQQII", data, 8)
    metadata = json.loads(data[72:72 + meta_len].decode())
    header = dict(version=version, header_size=header_size, flags=flags, chunk_size=chunk_size,
                  start_ms=start_ms, end_ms=end_ms, pid=pid, hexversion=hexversion,
                  seq_end=seq_end, metadata=metadata)
    events, threads, codes, sampler = [], {}, {}, {"rss": [], "modules": []}
    offset = header_size
    while offset + chunk_size <= len(data):
        used, tid, first_seq, index, _r = struct.unpack_from("<IIQII", data, offset)
        if used:
            if used > chunk_size - 24:
                raise ValueError(f"Cannot parse capture {path}: chunk used_bytes too large")
            th = threads.setdefault(tid, {"py": [], "native": [], "name": None, "info": None,
                                          "chunks": []})
            th["chunks"].append(index)
            decode_chunk(Reader(data, offset + 24, offset + 24 + used), tid, first_seq, th,
                         events, codes, sampler)
        offset += chunk_size
    events.sort(key=lambda e: e["seq"])
    seqs = [e["seq"] for e in events]
    if len(set(seqs)) != len(seqs):
        raise ValueError(f"Cannot parse capture {path}: duplicate sequence numbers")
    return dict(header=header, events=events, threads=threads, codes=codes, **sampler)


def decode_chunk(r, tid, first_seq, th, events, codes, sampler):
    seq, ip = first_seq, 0
    mru = [0] * MRU_SLOTS  # most recent event addresses first; mru[0] is the delta base
    top = []  # recent top Python frames of this chunk, most recent first
    # Raw bytes of the Python stack records since the thread's last event (byte-exact checks).
    py_records = []

    def top_insert(frame):
        top.insert(0, frame)
        del top[PY_TOP_SLOTS:]

    def replace_top(frame):
        if not th["py"]:
            raise ValueError("Cannot parse capture: PY_TOP on an empty python stack")
        th["py"][-1] = frame

    while r.pos < r.end:
        start = r.pos
        t = r.byte()
        if t & 0x80:
            slot, k = (t >> 3) & 0xF, INLINE_KINDS[t & 7]
            if k is None:
                k = r.byte()
                if k not in ALLOCATORS and k not in DEALLOCATORS:
                    raise ValueError(f"Cannot parse capture: unknown event kind {k:#x}")
            if slot == MRU_MISS:
                z = r.varint()  # up to 65 bits: Python ints are exact
                h = z >> 1
                delta = (h >> 1) ^ -(h & 1)
                addr = (mru[0] + (delta * 16 if z & 1 == 0 else delta)) & 0xFFFFFFFFFFFFFFFF
                del mru[MRU_SLOTS - 1]
            else:
                addr = mru.pop(slot)
            mru.insert(0, addr)
            seq += 1
            ev = {"seq": seq, "tid": tid, "addr": addr, "py_records": py_records}
            py_records = []
            if k in ALLOCATORS:
                ev.update(kind=ALLOCATORS[k], size=r.varint(),
                          py=list(th["py"]), native=list(th["native"]))
            else:
                ev["kind"] = DEALLOCATORS[k]
                if k == 0x12:
                    ev["size"] = r.varint()
            events.append(ev)
        elif t == 0x60:
            skip = r.varint()
            if skip < 1:
                raise ValueError("Cannot parse capture: SEQ_SKIP of 0")
            seq += skip
        elif 0x61 <= t <= 0x7F:
            seq += t - 0x60
        elif t == 0x20:
            pops, pushes = r.varint(), r.varint()
            if pops > len(th["py"]):
                raise ValueError("Cannot parse capture: python stack pops past the bottom")
            del th["py"][len(th["py"]) - pops:]
            for _ in range(pushes):
                v = r.varint()
                th["py"].append((v >> 1, v & 1, r.svarint()))
            if pushes:
                top_insert(th["py"][-1])
            py_records.append(bytes(r.data[start:r.pos]))
        elif t < PY_TOP_SLOTS:
            if t >= len(top):
                raise ValueError(f"Cannot parse capture: PY_TOP_HIT of empty slot {t}")
            frame = top.pop(t)
            top.insert(0, frame)
            replace_top(frame)
            py_records.append(bytes(r.data[start:r.pos]))
        elif t == 0x10:
            if not top:
                raise ValueError("Cannot parse capture: PY_TOP_DELTA with an empty top cache")
            code_id, entry, offset = top[0]
            frame = (code_id, entry, offset + r.svarint())
            top_insert(frame)
            replace_top(frame)
            py_records.append(bytes(r.data[start:r.pos]))
        elif t == 0x21:
            pops, pushes = r.varint(), r.varint()
            if pops > len(th["native"]):
                raise ValueError("Cannot parse capture: native stack pops past the bottom")
            del th["native"][len(th["native"]) - pops:]
            for _ in range(pushes):
                ip = (ip + r.svarint()) & 0xFFFFFFFFFFFFFFFF
                th["native"].append(ip)
        elif t == 0x30:
            cid, first_line = r.varint(), r.varint()
            name, qual, fname, lt = r.bytes_(), r.bytes_(), r.bytes_(), r.bytes_()
            if cid in codes:
                raise ValueError(f"Cannot parse capture: code id {cid} defined twice")
            codes[cid] = dict(first_line=first_line, name=name.decode(), qualname=qual.decode(),
                              filename=fname.decode(), linetable_len=len(lt))
        elif t == 0x31:
            th["name"] = r.bytes_().decode()
        elif t == 0x32:
            th["info"] = (r.varint(), r.byte())
        elif t == 0x40:
            seq += r.varint()
            sampler["rss"].append((seq, r.varint(), r.varint()))
        elif t == 0x41:
            seq += r.varint()
            gen, count = r.varint(), r.varint()
            mods = []
            for _ in range(count):
                p, base, bid = r.bytes_().decode(), r.varint(), r.bytes_()
                segs = [(r.varint(), r.varint()) for _ in range(r.varint())]
                mods.append(dict(path=p, base=base, build_id=bid.hex(), segments=segs))
            sampler["modules"].append(dict(seq=seq, generation=gen, modules=mods))
        else:
            raise ValueError(f"Cannot parse capture: unknown record type {t:#x}")


if __name__ == "__main__":
    import sys
    out = decode(sys.argv[1])
    print(json.dumps({"header": out["header"], "events": len(out["events"]),
                      "threads": {k: {"name": v["name"], "info": v["info"]} for k, v in out["threads"].items()},
                      "codes": len(out["codes"]), "rss": len(out["rss"])}, indent=1))
