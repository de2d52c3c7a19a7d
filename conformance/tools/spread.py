"""Run-to-run spread of two benchmark runs of the same environment (or the change between two).

    python -m conformance.tools.spread A.json B.json [--limit 5]
    python -m conformance.tools.spread A1.json,A2.json,A3.json B1.json,B2.json,B3.json

A side given as several files (comma-separated: one per process) counts, per benchmark and
measure, the median over its files: the noise of this machine lies between processes, so a
median over processes is what steadies a number, not longer rounds in one.

For each benchmark in both sides, the relative difference (B - A) / A of two measures:

- the minimum time (pytest-benchmark's `min`), measured apart from any baseline;
- each ratio to a baseline (`roofline_ratio`, `numpy_ratio`, `torch_ratio` in extra_info),
  measured interleaved with its baseline in the same process (conformance/benchmarks/baselines.py).

Prints the ones beyond --limit percent and a summary per measure (median and largest absolute
difference, count beyond). Exit status 0 always: this measures, it does not judge.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from conformance.tools import bench_processes


def _document(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"spread: {path}: not a pytest-benchmark JSON file ({type(e).__name__}: {e})") from None


def measures(path: Path, data: dict | None = None) -> dict[str, dict[str, float]]:
    """measure ('min', 'roofline_ratio', ...) -> benchmark -> value, of the file (or its `data`)."""
    try:
        data = _document(path) if data is None else data
        out: dict[str, dict[str, float]] = {"min": {}}
        for b in data["benchmarks"]:
            out["min"][b["fullname"]] = float(b["stats"]["min"])
            for key, value in (b.get("extra_info") or {}).items():
                if key.endswith("_ratio") and isinstance(value, (int, float)):
                    out.setdefault(key, {})[b["fullname"]] = float(value)
        return out
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise SystemExit(f"spread: {path}: not a pytest-benchmark JSON file ({type(e).__name__}: {e})") from None


def side(text: str) -> dict[str, dict[str, float]]:
    """The measures of one side: one file's, or of several files merged as bench_processes merges
    its processes (per benchmark, each ratio's median; the minimum of the median run)."""
    paths = [Path(p) for p in text.split(",") if p]
    if len(paths) == 1:
        return measures(paths[0])
    return measures(paths[0], bench_processes.merge([_document(p) for p in paths]))


def _compare(label: str, a: dict[str, float], b: dict[str, float], limit: float) -> None:
    common = sorted(set(a) & set(b))
    if not common:
        print(f"{label}: the two files have no benchmark in common", file=sys.stderr)
        return
    diffs = {name: 100 * (b[name] - a[name]) / a[name] for name in common}
    beyond = {n: d for n, d in diffs.items() if abs(d) > limit}
    width = max(len(n) for n in common)
    unit, scale = ("ms", 1e3) if label == "min" else ("", 1.0)
    for name, d in sorted(beyond.items(), key=lambda x: -abs(x[1])):
        print(f"  {name:<{width}}  {a[name] * scale:10.3f} {unit:2} {b[name] * scale:10.3f} {unit:2} {d:+7.1f}%")
    absolute = [abs(d) for d in diffs.values()]
    print(
        f"{len(common)} benchmarks in both: median |difference of {label}| {statistics.median(absolute):.1f}%, "
        f"largest {max(absolute):.1f}%, {len(beyond)} beyond {limit:g}%"
        + (f"; only in one file: {len(set(a) ^ set(b))}" if set(a) ^ set(b) else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.tools.spread", description=__doc__.split("\n\n")[0])
    parser.add_argument("a", help="a pytest-benchmark JSON file, or several joined by commas (one per process)")
    parser.add_argument("b", help="the same for the other side")
    parser.add_argument("--limit", type=float, default=5.0, help="percent (default %(default)s)")
    args = parser.parse_args(argv)
    a, b = side(args.a), side(args.b)
    for label in ["min", *sorted((set(a) & set(b)) - {"min"})]:
        _compare(label, a[label], b[label], args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
