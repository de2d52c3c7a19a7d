"""Run-to-run spread of two benchmark runs of the same environment (or the change between two).

    python -m conformance.tools.spread A.json B.json [--limit 5]

For each benchmark in both files: the relative difference of the minimum, (B - A) / A. Prints the
ones beyond --limit percent and a summary (median and largest absolute difference, count beyond).
Exit status 0 always: this measures, it does not judge.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path


def minima(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text())
        return {b["fullname"]: float(b["stats"]["min"]) for b in data["benchmarks"]}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise SystemExit(f"spread: {path}: not a pytest-benchmark JSON file ({type(e).__name__}: {e})") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.tools.spread", description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--limit", type=float, default=5.0, help="percent (default %(default)s)")
    args = parser.parse_args(argv)
    a, b = minima(args.a), minima(args.b)
    common = sorted(set(a) & set(b))
    if not common:
        print("spread: the two files have no benchmark in common", file=sys.stderr)
        return 0
    diffs = {name: 100 * (b[name] - a[name]) / a[name] for name in common}
    beyond = {n: d for n, d in diffs.items() if abs(d) > args.limit}
    width = max(len(n) for n in common)
    for name, d in sorted(beyond.items(), key=lambda x: -abs(x[1])):
        print(f"{name:<{width}}  {a[name] * 1e3:10.3f} ms  {b[name] * 1e3:10.3f} ms  {d:+7.1f}%")
    absolute = [abs(d) for d in diffs.values()]
    print(f"{len(common)} benchmarks in both: median |difference of min| {statistics.median(absolute):.1f}%, "
          f"largest {max(absolute):.1f}%, {len(beyond)} beyond {args.limit:g}%"
          + (f"; only in one file: {len(set(a) ^ set(b))}" if set(a) ^ set(b) else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
