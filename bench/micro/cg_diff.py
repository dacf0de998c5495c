"""Per-pair self cost by function: callgrind_annotate of the large and small runs of
callgrind_pairs.sh, differenced and divided by the pair difference (100000).
usage: python3 bench/micro/cg_diff.py PREFIX  (PREFIX = the OUT given to callgrind_pairs.sh)"""
import re
import subprocess
import sys

PAIRS_DIFFERENCE = 100_000
LINE = re.compile(r"^\s*([\d,]+) \([^)]*\)\s+(\S.*)$")


def self_costs(path):
    text = subprocess.run(
        ["callgrind_annotate", "--inclusive=no", "--threshold=100", path],
        capture_output=True, text=True, check=True,
    ).stdout
    costs = {}
    for line in text.splitlines():
        match = LINE.match(line)
        if match and "PROGRAM TOTALS" not in line:
            name = match.group(2).split(" [")[0]
            name = name.split(":", 1)[1] if ":" in name else name
            costs[name] = costs.get(name, 0) + int(match.group(1).replace(",", ""))
    return costs


def main():
    prefix = sys.argv[1]
    large, small = self_costs(prefix), self_costs(prefix + "-small")
    rows = sorted(((large.get(k, 0) - small.get(k, 0)) / PAIRS_DIFFERENCE, k) for k in large)
    total = sum(cost for cost, _ in rows)
    for cost, name in reversed(rows[-int(sys.argv[2]) if len(sys.argv) > 2 else -30:]):
        print(f"{cost:8.1f}  {name}")
    print(f"{total:8.1f}  TOTAL per pair")


main()
