"""Merge the results files of several environments into one JSON, and print what differs.

    python -m conformance.merge reports --out reports/merged.json --markdown reports/merged.md

A directory argument means every *.jsonl in it (merged outputs excepted). Each file is one
environment, labelled by its run_info["environment"] (tox sets it from TOX_ENV_NAME), else by the
file's stem. A file cut off mid-line (a crashed run) is used up to its last complete line; a file
without run_info is skipped; both are said. A resumed run's lines ({"resumed": ...}) are skipped,
and the last record per (optimizer, claim) counts. The shards of one environment (`--shard K/N`)
are joined into one column, a missing shard noted. Standard library only, so `tox -e report` needs no
install. Grouping and the text / Markdown rendering live in `differences.py`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import differences, shards
from .record_format import FORMAT_VERSION, VERDICTS, condition_verdict
# run_info keys that are not versions of something; every other string value is one.
_NOT_VERSIONS = {"format_version", "platform", "backend", "generation", "devices", "hypothesis_profile",
                 "hypothesis_seed", "argv", "started", "environment", "layouts", "shard"}
_CELL_LIMITS = {"verdict": 0, "expected": 0, "condition": 0, "kind": 0, "upstream": 0, "reason": 400, "message": 300,
                "stale": 300, "link": 0}


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
                run.notes.append(f"line {n}: format_version {version!r} is not one this suite reads (1 to {FORMAT_VERSION}): "
                                 f"records were read as far as they have the fields of version {FORMAT_VERSION}")
        elif "resumed" in obj:  # where a resumed run (--resume) started appending: nothing to read
            continue
        elif isinstance(obj.get("layout"), dict):
            run.layouts[str(obj["layout"].get("optimizer", "?"))] = obj["layout"]
            run.optimizers.add(str(obj["layout"].get("optimizer", "?")))
        elif all(isinstance(obj.get(k), str) for k in ("optimizer", "claim", "verdict")):
            run.records[(obj["optimizer"], obj["claim"])] = obj  # a later record (a resumed run's) supersedes
            run.optimizers.add(obj["optimizer"])
        else:
            run.notes.append(f"line {n} is neither run_info, a layout nor a verdict (optimizer, claim and verdict as text): skipped")
    if info is None:
        if warn:
            print(f"warning: {path}: no run_info line, not a results file: skipped", file=sys.stderr)
        return None
    run.info, run.label = info, str(info.get("environment") or path.stem)
    return run


def _trim(text: str, limit: int) -> str:
    return text if not limit or len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _cell(record: dict[str, Any]) -> dict[str, Any]:
    """A verdict record cut to what a merged report shows (the first line of a long message), with
    each condition's verdict (format 2)."""
    out: dict[str, Any] = {}
    for key, limit in _CELL_LIMITS.items():
        value = record.get(key)
        if value:
            value = str(value).split("\n\n")[0] if key == "message" else str(value)
            out[key] = _trim(value, limit)
    conditions = record.get("conditions")
    if isinstance(conditions, dict) and conditions:
        out["conditions"] = {n: condition_verdict(record, n) for n in conditions}
    return out


def environment(run: Run) -> dict[str, Any]:
    """An environment's entry in the merged JSON: label, file, run info, counts and notes."""
    i = run.info
    counts = Counter(r["verdict"] for r in run.records.values())
    at_defaults = Counter(condition_verdict(r, "defaults") for r in run.records.values())
    stale = sum(1 for r in run.records.values() if r.get("stale"))
    return {
        "label": run.label,
        "file": str(run.path),
        "run_info": {
            "keras": i.get("keras"), "backend": i.get("backend"), "generation": i.get("generation"),
            "versions": {k: v for k, v in i.items() if k not in _NOT_VERSIONS and isinstance(v, str)},
            "devices": i.get("devices"), "profile": i.get("hypothesis_profile"),
            "seed": i.get("hypothesis_seed"), "started": i.get("started"),
        },
        "counts": {v: counts[v] for v in (*VERDICTS, *sorted(set(counts) - set(VERDICTS))) if counts[v]},
        "defaults": {v: at_defaults[v] for v in VERDICTS if at_defaults[v]},
        "kinds": deviation_kinds(run.records.values()),
        **({"stale": stale} if stale else {}),
        "notes": run.notes,
    }


def deviation_kinds(records: Any) -> dict[str, int]:
    """(optimizer, claim) pairs with a deviation of each kind in any condition (format 1: the
    record's own, of unknown kind), and those with a bug no upstream issue reports."""
    out: Counter[str] = Counter()
    for r in records:
        conditions = r.get("conditions") if isinstance(r.get("conditions"), dict) and r.get("conditions") else {None: r}
        found = [c for c in conditions.values() if isinstance(c, dict) and c.get("verdict") == "deviation"]
        out.update({str(c.get("kind") or "unknown") for c in found})
        out["bug, no upstream report"] += any(c.get("kind") == "bug" and c.get("upstream") == "none found" for c in found)
    return {k: n for k, n in out.items() if n}


def merge(runs: list[Run]) -> dict[str, Any]:
    """The merged JSON: environments, every (optimizer, claim) with its verdict per environment,
    the optimizers not in every environment, pairs not run, and the grouped differences."""
    labels = [r.label for r in runs]
    keys = sorted({k for r in runs for k in r.records})
    rows = []
    for opt, claim in keys:
        first = next(r.records[(opt, claim)] for r in runs if (opt, claim) in r.records)
        rows.append({
            "optimizer": opt, "claim": claim, "claim_text": first.get("claim_text", ""),
            "verdicts": {r.label: _cell(r.records[(opt, claim)]) for r in runs if (opt, claim) in r.records},
        })
    present = {o: [r.label for r in runs if o in r.optimizers] for o in sorted({o for r in runs for o in r.optimizers})}
    not_run = {r.label: sum(1 for o, c in keys if o in r.optimizers and (o, c) not in r.records) for r in runs}
    return {
        "format_version": FORMAT_VERSION,
        "environments": [environment(r) for r in runs],
        "only_in": {o: envs for o, envs in present.items() if len(envs) < len(labels)},
        "not_run": {k: n for k, n in not_run.items() if n},
        "results": rows,
        "differences": differences.group(rows, labels, present),
    }


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
    """argparse whose errors are UsageError (one line), for this module's and the report's CLI."""

    def error(self, message: str) -> None:  # one line, not argparse's two
        raise UsageError(message)


USAGE = "python -m conformance.merge PATH... [--out FILE] [--markdown FILE] [--rejudge [EXPECTATIONS]]"


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m conformance.merge", usage=USAGE, description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="results files, or directories of them")
    parser.add_argument("--out", type=Path, help="write the merged JSON here")
    parser.add_argument("--markdown", type=Path, help="write the differences table in Markdown here")
    parser.add_argument("--rejudge", nargs="?", type=Path, const=Path("-"), metavar="EXPECTATIONS",
                        help="judge stored failures against the expectations as they are now (default file if none given)")
    try:
        args = parser.parse_args(argv)
        if not args.paths:
            raise UsageError("no results files given")
        runs = shards.join([r for r in map(read_run, results_files(args.paths)) if r is not None])
        if not runs:
            raise UsageError("none of the files given is a results file (no run_info line)")
        label_uniquely(runs)
        if args.rejudge is not None:
            from .rejudge import rejudge

            for r in runs:
                try:
                    changed = rejudge(r.info, r.records, *([] if str(args.rejudge) == "-" else [args.rejudge]))
                except (ValueError, OSError) as e:  # not an expectations file (TOML errors are ValueErrors)
                    raise UsageError(f"--rejudge {args.rejudge}: not a readable expectations file ({e})") from None
                r.notes.append(f"re-judged against the current expectations: {changed} verdict(s) changed")
        merged = merge(runs)
        for path, text in ((args.out, lambda: json.dumps(merged, indent=1) + "\n"),
                           (args.markdown, lambda: differences.markdown(merged))):
            if path is not None:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(text(), encoding="utf-8")
                except OSError as e:
                    raise UsageError(f"{path}: cannot write ({e.strerror})") from None
    except UsageError as e:
        print(f"conformance.merge: {e} (usage: {USAGE})", file=sys.stderr)
        return 2
    print(differences.text(merged))
    for path in (args.out, args.markdown):
        if path is not None:
            print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
