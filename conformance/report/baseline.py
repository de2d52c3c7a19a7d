"""Diff mode: each current environment against its baseline, wpt.fyi style.

Environments are paired by label; a single environment on each side is paired whatever the labels
(one file against one file). A claim does not hold when its verdict is fail, error or deviation (a
declared failure is still a failure of the claim), so:

- newly failing: it passed, and now does not hold (a regression);
- newly passing: it did not hold, and now passes;
- changed: any other change of verdict (fail -> deviation: now declared; pass -> unsupported; a
  claim that could not be checked before, unsupported, and now fails: new coverage, not a regression);
- added / removed: the (optimizer, claim) is only in the current / only in the baseline run.

Two format-2 records are compared condition by condition too (the conditions both have): where the
claim's verdict is the same but a condition's changed, the cell is newly failing if some condition
went from pass to not holding, else newly passing if some went the other way, else changed. The
claim's verdict hides such a change (weight_decay now fails, but float16 failed already).
A format-1 record against a format-2 one is compared by the claim's verdict only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.records.results_format import Run
from conformance.report import conditions
from conformance.report.table import SHOWN, Cell, Row

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


def condition_changes(before: dict[str, str], after: dict[str, str]) -> list[tuple[str, str, str]]:
    """(condition, before, now) for each condition both records have whose verdict changed."""
    return [(name, before[name], now) for name, now in after.items() if name in before and before[name] != now]


def by_conditions(changes: list[tuple[str, str, str]]) -> str:
    """The change its conditions' verdicts make: newly failing where one stopped holding (also when the
    claim's verdict changed otherwise, deviation to fail, say), else newly passing or changed where the
    claim's verdict stayed the same."""
    if any(was == "pass" and now in FALSE for _, was, now in changes):
        return "newly_failing"
    if any(was in FALSE and now == "pass" for _, was, now in changes):
        return "newly_passing"
    return "changed" if changes else ""


def note(cell: Cell) -> str:
    """What a changed cell says after its change's symbol: the verdict it had, or where it changed."""
    if cell.before and cell.before != cell.word:
        return f"was {word(cell.before)}"
    if len(cell.changed_conditions) == 1:
        name, was, now = cell.changed_conditions[0]
        return f"{name} was {word(was)}"
    if cell.changed_conditions:
        return f"{len(cell.changed_conditions)} conditions changed"
    return CHANGES[cell.change][1] if cell.change else ""


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
            if cell.has_conditions and record is not None:
                cell.changed_conditions = condition_changes(conditions.verdicts(record), cell.verdicts)
                by = by_conditions(cell.changed_conditions)
                # a condition that stopped holding is a regression, whatever the claim's own verdict did
                what = by if by == "newly_failing" and what in ("", "changed") else what or by
            if what:
                cell.change, cell.before = what, before or ""
                diff.counts[e][what] += 1
                if what == "newly_failing":
                    diff.regressions.append((row, e))
    return diff


def word(verdict: str) -> str:
    return SHOWN[verdict][1] if verdict in SHOWN else verdict
