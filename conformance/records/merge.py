"""Merge the results files of several environments into one JSON, and print what differs.

    python -m conformance.records.merge reports --out reports/merged.json --markdown reports/merged.md

A directory argument means every *.jsonl in it (merged outputs excepted). Each file is one
environment, labelled by its run_info["environment"] (tox sets it from TOX_ENV_NAME), else by the
file's stem, and put in version order (`versions.py`) whatever the files' names. A file cut off
mid-line (a crashed run) is used up to its last complete line; a file without run_info is skipped;
both are said. A resumed run's lines ({"resumed": ...}) are skipped, and the last record per
(optimizer, claim) counts. The shards of one environment (`--shard K/N`) are joined into one column,
a missing shard noted. Standard library only, so `tox -e report` needs no install. Grouping, where
each group's claims hold across the versions, and the text / Markdown rendering live in
`differences.py`.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from conformance.records import differences, shards, versions
from conformance.records.results_format import (
    FORMAT_VERSION,
    VERDICTS,
    Parser,
    Run,
    UsageError,
    condition_verdict,
    label_uniquely,
    read_run,
    results_files,
)

# run_info keys that are not versions of something; every other string value is one.
_NOT_VERSIONS = {
    "format_version",
    "platform",
    "backend",
    "generation",
    "devices",
    "hypothesis_profile",
    "hypothesis_seed",
    "argv",
    "started",
    "environment",
    "layouts",
    "shard",
}
_CELL_LIMITS = {
    "verdict": 0,
    "expected": 0,
    "condition": 0,
    "kind": 0,
    "upstream": 0,
    "reason": 400,
    "message": 300,
    "stale": 300,
    "link": 0,
}


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
            "keras": i.get("keras"),
            "backend": i.get("backend"),
            "generation": i.get("generation"),
            "versions": {k: v for k, v in i.items() if k not in _NOT_VERSIONS and isinstance(v, str)},
            "devices": i.get("devices"),
            "profile": i.get("hypothesis_profile"),
            "seed": i.get("hypothesis_seed"),
            "started": i.get("started"),
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
        out["bug, no upstream report"] += any(
            c.get("kind") == "bug" and c.get("upstream") == "none found" for c in found
        )
    return {k: n for k, n in out.items() if n}


def merge(runs: list[Run]) -> dict[str, Any]:
    """The merged JSON: environments, every (optimizer, claim) with its verdict per environment,
    the optimizers not in every environment, pairs not run, and the grouped differences."""
    labels = [r.label for r in runs]
    keys = sorted({k for r in runs for k in r.records})
    rows = []
    for opt, claim in keys:
        first = next(r.records[(opt, claim)] for r in runs if (opt, claim) in r.records)
        rows.append(
            {
                "optimizer": opt,
                "claim": claim,
                "claim_text": first.get("claim_text", ""),
                "verdicts": {r.label: _cell(r.records[(opt, claim)]) for r in runs if (opt, claim) in r.records},
            }
        )
    present = {o: [r.label for r in runs if o in r.optimizers] for o in sorted({o for r in runs for o in r.optimizers})}
    names = versions.columns([(r.info.get("keras"), r.info.get("backend"), r.label) for r in runs])
    not_run = {r.label: sum(1 for o, c in keys if o in r.optimizers and (o, c) not in r.records) for r in runs}
    return {
        "format_version": FORMAT_VERSION,
        "environments": [environment(r) for r in runs],
        "only_in": {o: envs for o, envs in present.items() if len(envs) < len(labels)},
        "not_run": {k: n for k, n in not_run.items() if n},
        "results": rows,
        "differences": differences.group(rows, labels, present, names),
    }


USAGE = "python -m conformance.records.merge PATH... [--out FILE] [--markdown FILE] [--rejudge [EXPECTATIONS]]"


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m conformance.records.merge", usage=USAGE, description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="results files, or directories of them")
    parser.add_argument("--out", type=Path, help="write the merged JSON here")
    parser.add_argument("--markdown", type=Path, help="write the differences table in Markdown here")
    parser.add_argument(
        "--rejudge",
        nargs="?",
        type=Path,
        const=Path("-"),
        metavar="EXPECTATIONS",
        help="judge stored failures against the expectations as they are now (default file if none given)",
    )
    try:
        args = parser.parse_args(argv)
        if not args.paths:
            raise UsageError("no results files given")
        runs = versions.in_order(shards.join([r for r in map(read_run, results_files(args.paths)) if r is not None]))
        if not runs:
            raise UsageError("none of the files given is a results file (no run_info line)")
        label_uniquely(runs)
        if args.rejudge is not None:
            from conformance.records.rejudge import rejudge

            for r in runs:
                try:
                    changed = rejudge(r.info, r.records, *([] if str(args.rejudge) == "-" else [args.rejudge]))
                except (ValueError, OSError) as e:  # not an expectations file (TOML errors are ValueErrors)
                    raise UsageError(f"--rejudge {args.rejudge}: not a readable expectations file ({e})") from None
                r.notes.append(f"re-judged against the current expectations: {changed} verdict(s) changed")
        merged = merge(runs)
        for path, text in (
            (args.out, lambda: json.dumps(merged, indent=1) + "\n"),
            (args.markdown, lambda: differences.markdown(merged)),
        ):
            if path is not None:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(text(), encoding="utf-8")
                except OSError as e:
                    raise UsageError(f"{path}: cannot write ({e.strerror})") from None
    except UsageError as e:
        print(f"conformance.records.merge: {e} (usage: {USAGE})", file=sys.stderr)
        return 2
    print(differences.text(merged))
    for path in (args.out, args.markdown):
        if path is not None:
            print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
