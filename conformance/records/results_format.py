"""The results file's format: its version, the verdicts a record can carry, and the one reader of
results files (merge, the report, --resume and the tools all read through `read_run`). Standard
library only, so that it reads results where no framework is installed.

A results file is JSON lines: one `{"run_info": {...}}`, then `{"layout": {...}}` lines and one
verdict record per (optimizer, claim); `{"resumed": {...}}` marks where a resumed run appended.
docs/results-format.md describes every field."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# 1: one verdict per (optimizer, claim); 2: adds `condition`, `conditions`, `kind` and `upstream`.
FORMAT_VERSION = 2
VERDICTS = ("pass", "fail", "deviation", "unsupported", "error")
# A record's verdict is its conditions' worst, in this order; `unsupported` only where nothing ran.
WORST_FIRST = ("error", "fail", "deviation", "pass", "unsupported")
# Where a claim reads a condition it did not check (format 1, or a claim without defaults).
NO_CONDITION = "-"


def condition_verdict(record: dict[str, Any], name: str) -> str:
    """The verdict of condition `name` in `record`, or NO_CONDITION where it has none."""
    conditions = record.get("conditions")
    found = conditions.get(name) if isinstance(conditions, dict) else None
    return str(found.get("verdict", NO_CONDITION)) if isinstance(found, dict) else NO_CONDITION


def worst(verdicts: dict[str, str]) -> str:
    """The name whose verdict comes first in WORST_FIRST (the first such name where several tie):
    the condition a record's own verdict and fields are taken from."""
    return min(verdicts, key=lambda n: WORST_FIRST.index(verdicts[n]))


class UsageError(Exception):
    """A bad command line or path: one line on stderr, exit status 2."""


@dataclass
class Run:
    """One results file: its label, run_info, verdict records by (optimizer, claim), and notes."""

    label: str
    path: Path
    info: dict[str, Any]
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    optimizers: set[str] = field(default_factory=set)
    layouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def results_files(paths: list[Path]) -> list[Path]:
    """The files named, a directory standing for its *.jsonl files (merged outputs excepted)."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.glob("*.jsonl") if not f.name.startswith("merged") and f.is_file())
            if not found:
                raise UsageError(f"{p}: no *.jsonl results files in this directory")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise UsageError(f"{p}: no such file or directory")
    return files


def read_run(path: Path, warn: bool = True) -> Run | None:
    """The run in one results file, None if it has no run_info (warned on stderr unless not warn).

    What cannot be read is noted in run.notes, each note naming its line; the rest is used."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror})") from None
    lines = text.split("\n")
    info: dict[str, Any] | None = None
    run = Run("", path, {})
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            if n == len(lines):  # no newline after it: the writer was stopped mid-line
                run.notes.append(f"cut off mid-line at line {n} (a crashed run?): used the {n - 1} complete lines")
            else:
                run.notes.append(f"line {n} is not JSON: skipped")
            continue
        if not isinstance(obj, dict):
            run.notes.append(f"line {n} is not a JSON object: skipped")
        elif "run_info" in obj and isinstance(obj["run_info"], dict):
            info = obj["run_info"]
            version = info.get("format_version", FORMAT_VERSION)
            if not isinstance(version, int) or version > FORMAT_VERSION:
                run.notes.append(
                    f"line {n}: format_version {version!r} is not one this suite reads (1 to {FORMAT_VERSION}): "
                    f"records were read as far as they have the fields of version {FORMAT_VERSION}"
                )
        elif "resumed" in obj:  # where a resumed run (--resume) started appending: nothing to read
            continue
        elif isinstance(obj.get("layout"), dict):
            run.layouts[str(obj["layout"].get("optimizer", "?"))] = obj["layout"]
            run.optimizers.add(str(obj["layout"].get("optimizer", "?")))
        elif all(isinstance(obj.get(k), str) for k in ("optimizer", "claim", "verdict")):
            run.records[(obj["optimizer"], obj["claim"])] = obj  # a later record (a resumed run's) supersedes
            run.optimizers.add(obj["optimizer"])
        else:
            run.notes.append(
                f"line {n} is neither run_info, a layout nor a verdict (optimizer, claim and verdict as text): skipped"
            )
    if info is None:
        if warn:
            print(f"warning: {path}: no run_info line, not a results file: skipped", file=sys.stderr)
        return None
    run.info, run.label = info, str(info.get("environment") or path.stem)
    return run


def label_uniquely(runs: list[Run]) -> None:
    """Give runs that share a label (two files of one environment) distinct ones, noted."""
    seen: set[str] = set()
    for run in runs:
        label, n = run.label, 1
        while run.label in seen:
            n += 1
            run.label = f"{label}#{n}"
        if run.label != label:
            run.notes.append(f"label {label!r} already used by another file: labelled {run.label!r}")
        seen.add(run.label)


class Parser(argparse.ArgumentParser):
    """argparse whose errors are UsageError (one line), for the command lines of merge and the report."""

    def error(self, message: str) -> None:  # one line, not argparse's two
        raise UsageError(message)
