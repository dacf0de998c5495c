"""Compares the walker's layout tables (dump_layout output) with layout_probe.c output.

Usage: check_layout.py TABLES_FILE PROBE_FILE...
Each PROBE_FILE is the probe compiled against one interpreter's headers. Exits 1 on any
difference: a field missing on either side or a different offset/size.
"""
import sys


def parse_tables(path):
    tables = {}
    current = None
    with open(path) as stream:
        for line in stream:
            key, value = line.split()
            if key == "minor":
                current = tables.setdefault(int(value), {})
            else:
                current[key] = int(value)
    return tables


def main():
    tables = parse_tables(sys.argv[1])
    failures = 0
    for probe_path in sys.argv[2:]:
        probe = parse_tables(probe_path)
        if len(probe) != 1:
            print(f"FAIL {probe_path}: expected one 'minor' line, got {len(probe)}")
            failures += 1
            continue
        (minor, measured), = probe.items()
        table = tables.get(minor)
        if table is None:
            print(f"FAIL {probe_path}: no Zig table for 3.{minor}")
            failures += 1
            continue
        for key in sorted(set(table) | set(measured)):
            zig_value = table.get(key)
            probe_value = measured.get(key)
            if zig_value != probe_value:
                print(f"FAIL 3.{minor} {key}: zig table {zig_value}, headers {probe_value}"
                      f" ({probe_path})")
                failures += 1
        print(f"layout 3.{minor} ({probe_path}): {len(measured)} fields compared")
    if failures:
        print(f"{failures} layout mismatch(es)")
        sys.exit(1)


if __name__ == "__main__":
    main()
