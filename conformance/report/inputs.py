"""Reading the report's inputs: results files (one environment each) and pytest-benchmark JSON.

Nothing here raises on a bad file: what cannot be read becomes a problem line naming the file (and
the line, where there is one), and everything else is used. Only a command line that names nothing
readable at all is a usage error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.records import shards, versions
from conformance.records.results_format import Run, UsageError, label_uniquely, read_run, results_files


@dataclass
class Inputs:
    """The runs of one group of files (current, or baseline) and what could not be read."""

    runs: list[Run] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_results(paths: list[Path], role: str = "results") -> Inputs:
    """Every results file among paths (directories stand for their *.jsonl files)."""
    out = Inputs()
    for path in results_files(paths):
        try:
            run = read_run(path, warn=False)
        except UsageError as e:  # unreadable: said, the others still render
            out.problems.append(str(e))
            continue
        if run is None:
            out.problems.append(f"{path}: no run_info line, so not a results file: left out")
            continue
        out.runs.append(run)
    out.runs = versions.in_order(shards.join(out.runs))  # columns in version order, whatever the files' names
    label_uniquely(out.runs)
    out.problems += [f"{r.path}: {note}" for r in out.runs for note in r.notes]
    if not out.runs:
        raise UsageError(f"none of the {role} files given is a results file: " + "; ".join(out.problems))
    return out


def two_columns(inputs: Inputs, before: str, after: str) -> tuple[Inputs, Inputs]:
    """Column `after` as the current run and column `before` as its baseline (`--diff BEFORE AFTER`),
    so that diff mode compares any two columns of one set; the problems stay with the current side."""
    labels = [r.label for r in inputs.runs]
    for label in (before, after):
        if label not in labels:
            raise UsageError(f"--diff: no column labelled {label!r}; the columns are {', '.join(labels)}")
    if before == after:
        raise UsageError(f"--diff: {before!r} twice; name two different columns ({', '.join(labels)})")
    of = {r.label: r for r in inputs.runs}
    return Inputs([of[after]], inputs.problems), Inputs([of[before]])


@dataclass
class Benchmark:
    """One pytest-benchmark result, reduced to what the performance section plots."""

    source: str  # the file's label
    optimizer: str
    regime: str
    seconds: float  # the minimum time of one call over the rounds (what the ratios are taken of)
    stats: dict[str, float]
    ratios: dict[str, float]  # extra_info entries named *_ratio (roofline_ratio, numpy_ratio, ...)


def _benchmark_label(path: Path, data: dict[str, Any]) -> str:
    info = data.get("machine_info") or {}
    conf = info.get("conformance") if isinstance(info.get("conformance"), dict) else {}
    parts = [str(conf[k]) for k in ("environment", "keras", "backend", "device") if conf.get(k)]
    return " ".join(parts) if parts else path.stem


def read_benchmarks(paths: list[Path]) -> tuple[list[Benchmark], list[str]]:
    """The benchmarks in pytest-benchmark JSON files (--benchmark-json / --benchmark-autosave)."""
    found: list[Path] = []
    problems: list[str] = []
    for p in paths:
        if p.is_dir():
            found += sorted(p.rglob("*.json"))
        elif p.is_file():
            found.append(p)
        else:
            raise UsageError(f"{p}: no such file or directory")
    out: list[Benchmark] = []
    for path in found:
        try:
            data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        except json.JSONDecodeError as e:
            problems.append(f"{path}: line {e.lineno}, column {e.colno}: not JSON ({e.msg}): left out")
            continue
        except OSError as e:
            problems.append(f"{path}: cannot read ({e.strerror}): left out")
            continue
        entries = data.get("benchmarks") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            problems.append(f"{path}: no \"benchmarks\" list, so not a pytest-benchmark file: left out")
            continue
        label = _benchmark_label(path, data)
        for n, b in enumerate(entries):
            try:
                out.append(_benchmark(label, b))
            except (KeyError, TypeError, ValueError) as e:
                problems.append(f"{path}: benchmarks[{n}]: missing or malformed {e}: left out")
    return out, problems


def _benchmark(label: str, b: dict[str, Any]) -> Benchmark:
    extra = b.get("extra_info") or {}
    params = b.get("params") or {}
    stats = {k: float(v) for k, v in b["stats"].items() if k in ("min", "max", "mean", "median", "stddev", "rounds")}
    return Benchmark(
        source=label,
        optimizer=str(extra.get("optimizer") or params.get("optimizer") or b["name"]),
        regime=str(extra.get("regime") or b.get("group") or "default"),
        seconds=float(b["stats"]["min"]),
        stats=stats,
        ratios={k: float(v) for k, v in extra.items() if k.endswith("_ratio") and isinstance(v, (int, float))},
    )
