"""The step benchmarks run in several processes, one after the other, merged into one file.

    python -m conformance.tools.bench_processes --json reports/benchmarks/keras3-tf.json \
        [--processes 3] [-- PYTEST ARGS]

This machine's noise lies between processes: a ratio measured interleaved with its baseline holds
still within one process, yet moves from one process to the next (docs/benchmarks.md). So each
benchmark runs in `--processes` separate `pytest conformance/benchmarks` runs, and the merged file
holds, per benchmark, the median over the processes of each ratio (`*_ratio`, `min_ratios`), the
run whose minimum is the median one for the times, and every process's values under
`extra_info["per_process"]`. The merged file is a pytest-benchmark JSON file like the others:
`conformance.report --benchmarks`, `conformance.tools.spread` and `pytest-benchmark compare` read it.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

def _median_run(values: list[float]) -> int:
    """The index of the median value (the lower middle one of an even count)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    return order[(len(order) - 1) // 2]


def _ratios(entry: dict[str, Any]) -> dict[str, float]:
    info = entry.get("extra_info") or {}
    out = {k: float(v) for k, v in info.items() if k.endswith("_ratio") and isinstance(v, (int, float))}
    out.update({f"min_ratios.{k}": float(v) for k, v in (info.get("min_ratios") or {}).items()})
    return out


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One pytest-benchmark document from several runs' documents (see the module's text)."""
    if not runs:
        raise ValueError("no runs to merge")
    merged = copy.deepcopy(runs[0])
    by_name: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        for entry in run.get("benchmarks", []):
            by_name.setdefault(entry["fullname"], []).append(entry)
    benchmarks = []
    for name, entries in by_name.items():
        chosen = copy.deepcopy(entries[_median_run([float(e["stats"]["min"]) for e in entries])])
        info = chosen.setdefault("extra_info", {})
        per: dict[str, list[float]] = {"min": [float(e["stats"]["min"]) for e in entries]}
        for e in entries:
            for k, v in _ratios(e).items():
                per.setdefault(k, []).append(v)
        for k, values in per.items():
            if k == "min":
                continue
            if k.startswith("min_ratios."):
                info.setdefault("min_ratios", {})[k.split(".", 1)[1]] = statistics.median(values)
            else:
                info[k] = statistics.median(values)
        info["processes"] = len(entries)
        info["per_process"] = per
        benchmarks.append(chosen)
    merged["benchmarks"] = benchmarks
    merged.setdefault("machine_info", {}).setdefault("conformance", {})["processes"] = len(runs)
    return merged


def _write(path: Path, document: dict[str, Any]) -> None:
    """Whole or not at all: a half-written file would read as a run with fewer benchmarks."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(document, f, indent=2)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.tools.bench_processes", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--json", required=True, type=Path, help="the merged pytest-benchmark JSON file to write")
    parser.add_argument("--processes", type=int, default=3, help="separate pytest runs (default %(default)s)")
    parser.add_argument("pytest_args", nargs="*", help="after --: more pytest arguments (-k, --optimizer ...)")
    args = parser.parse_args(argv)
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-processes-") as folder:
        for i in range(1, args.processes + 1):
            out = Path(folder) / f"{i}.json"
            command = [sys.executable, "-m", "pytest", str(BENCHMARKS), "-q", "-p", "no:cacheprovider",
                       f"--benchmark-json={out}", *args.pytest_args]
            print(f"bench_processes: process {i}/{args.processes}: {shlex.join(command[1:])}", flush=True)
            t0 = time.monotonic()
            done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            tail = done.stdout.strip().splitlines()[-1:] or [""]
            print(f"bench_processes: process {i} exited {done.returncode} after {time.monotonic() - t0:.0f} s: "
                  f"{tail[0]}", flush=True)
            if done.returncode != 0 or not out.exists():
                print(done.stdout[-4000:], file=sys.stderr)
                print(f"bench_processes: process {i} failed; {args.json} left as it was", file=sys.stderr)
                return done.returncode or 1
            runs.append(json.loads(out.read_text()))
    document = merge(runs)
    _write(args.json, document)
    print(f"bench_processes: {len(document['benchmarks'])} benchmarks, each the median of {args.processes} "
          f"processes: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
