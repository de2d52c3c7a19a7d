"""Diff mode: each current environment against its baseline, wpt.fyi style.

Environments are paired by label; a single environment on each side is paired whatever the labels
(one file against one file). A claim does not hold when its verdict is fail, error or deviation (a
declared failure is still a failure of the claim), so:

- newly failing: it passed, and now does not hold (a regression);
- newly passing: it did not hold, and now passes;
- changed: any other change of verdict (fail -> deviation: now declared; pass -> unsupported; a
  claim that could not be checked before, unsupported, and now fails: new coverage, not a regression);
- added / removed: the (optimizer, claim) is only in the current / only in the baseline run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..merge import Run
from .table import SHOWN, Row

FALSE = {"fail", "error", "deviation"}
# change -> (symbol, words); the order is the summary's.
CHANGES: dict[str, tuple[str, str]] = {
    "newly_failing": ("▼", "newly failing"),
    "newly_passing": ("▲", "newly passing"),
    "changed": ("~", "changed"),
    "added": ("+", "added"),
    "removed": ("−", "removed"),
}


def change(before: str | None, after: str | None) -> str:
    """The change from a baseline verdict to a current one (None: no record), or ""."""
    if before == after:
        return ""
    if before is None:
        return "added"
    if after is None:
        return "removed"
    if after in FALSE and before == "pass":
        return "newly_failing"
    if before in FALSE and after == "pass":
        return "newly_passing"
    return "changed"


def pair(current: list[Run], baseline: list[Run]) -> tuple[dict[int, Run], list[str]]:
    """Baseline run per current environment index, and notes on what has no counterpart."""
    if len(current) == 1 and len(baseline) == 1:
        return {0: baseline[0]}, []
    by_label = {b.label: b for b in baseline}
    pairs = {i: by_label[r.label] for i, r in enumerate(current) if r.label in by_label}
    notes = [f"environment {r.label!r} has no baseline of the same label: not compared"
             for i, r in enumerate(current) if i not in pairs]
    paired = {b.label for b in pairs.values()}
    notes += [f"baseline environment {b.label!r} has no current run of the same label: not compared"
              for b in baseline if b.label not in paired]
    return pairs, notes


@dataclass
class Diff:
    """Per current environment: counts of each change, and the regressions listed at the top."""

    pairs: dict[int, Run]
    notes: list[str]
    counts: dict[int, dict[str, int]] = field(default_factory=dict)
    regressions: list[tuple[Row, int]] = field(default_factory=list)


def keys(pairs: dict[int, Run]) -> set[tuple[str, str]]:
    """The baseline's (optimizer, claim) pairs, so that removed ones get a row."""
    return {k for b in pairs.values() for k in b.records}


def mark(rows: list[Row], pairs: dict[int, Run], notes: list[str]) -> Diff:
    """Set each cell's change against its baseline, and count them."""
    diff = Diff(pairs, notes, {e: {c: 0 for c in CHANGES} for e in pairs})
    for row in rows:
        for e, base in pairs.items():
            cell = row.cells[e]
            record: dict[str, Any] | None = base.records.get((row.optimizer, row.claim))
            before = str(record["verdict"]) if record else None
            what = change(before, row.cells[e].word if cell.recorded else None)
            if what:
                cell.change, cell.before = what, before or ""
                diff.counts[e][what] += 1
                if what == "newly_failing":
                    diff.regressions.append((row, e))
    return diff


def word(verdict: str) -> str:
    return SHOWN[verdict][1] if verdict in SHOWN else verdict
