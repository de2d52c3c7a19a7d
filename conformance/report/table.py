"""The report's matrix: one row per (optimizer, claim), one cell per environment, grouped two ways.

Rows are grouped by scenario, then claim, then optimizer (`claim` order), or by optimizer, then
scenario, then claim (`optimizer` order). Each cell carries its verdict as a CSS class, a symbol and
a word, so that it reads without colour, and (format 2) the verdict at defaults and the declared
deviation's kind. Counts are kept per row, per group and per environment, and each row says where
its claim holds across the environments, which come in version order ("holds 3.5.0–3.15.1; fails
3.3.3–3.4.1": records/versions.py).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from conformance.records import versions
from conformance.records.results_format import Run
from conformance.report import conditions

# verdict -> (symbol, word); the last three are not verdicts but what a cell can be instead.
SHOWN: dict[str, tuple[str, str]] = {
    "pass": ("✓", "pass"),
    "fail": ("✗", "fail"),
    "deviation": ("◆", "deviation"),
    "unsupported": ("○", "unsupported"),
    "error": ("!", "error"),
    "unknown": ("?", "unknown"),
    "not run": ("·", "not run"),
    "absent": ("—", "absent"),
}
CSS = {"not run": "notrun"}  # classes are the verdict words, spaces removed
_SCENARIO = re.compile(r"test_(\w+)\.py")


def css(verdict: str) -> str:
    return CSS.get(verdict, verdict)


@dataclass
class Cell:
    verdict: str  # a key of SHOWN
    word: str  # what the cell says (an unknown verdict's own text)
    recorded: bool  # there is a record to show on click
    change: str = ""  # with a baseline: a key of baseline.CHANGES, or ""
    before: str = ""  # the baseline's verdict, when it changed
    kind: str = ""  # a deviation's declared kind (a key of conditions.KINDS), or ""
    condition: str = ""  # the condition the verdict is that of (format 2: the first of the worst)
    defaults: str = ""  # the verdict at defaults (a key of SHOWN), "" where the record has no such condition
    defaults_kind: str = ""
    verdicts: dict[str, str] = field(default_factory=dict)  # condition -> its verdict as written (format 2)
    changed_conditions: list[tuple[str, str, str]] = field(default_factory=list)  # (condition, before, now)

    @property
    def symbol(self) -> str:
        return SHOWN[self.verdict][0]

    @property
    def css(self) -> str:
        return css(self.verdict)

    @property
    def has_conditions(self) -> bool:
        """The record has conditions (format 2)."""
        return bool(self.verdicts)

    def summary(self) -> str:
        """The cell in words (a grid cell's title): the verdict at defaults, then over every condition
        with the condition it comes from and a deviation's kind."""
        said = self.word or SHOWN[self.verdict][1]
        # the condition a failure comes from (a pass's is merely the first condition)
        where = self.condition if self.verdict in ("fail", "deviation", "error") else ""
        why = ", ".join(x for x in (where, self.kind) if x)
        said += f" ({why})" if why else ""
        if not self.has_conditions:
            return said
        if not self.defaults:
            return f"defaults: no defaults condition · overall: {said}"
        at_defaults = SHOWN[self.defaults][1] + (f" ({self.defaults_kind})" if self.defaults_kind else "")
        return f"defaults: {at_defaults} · overall: {said}"


@dataclass
class Row:
    index: int
    optimizer: str
    claim: str
    scenario: str
    cells: list[Cell]
    history: list[str] = field(default_factory=list)  # where the claim holds, for a row whose verdicts differ
    history_long: list[str] = field(default_factory=list)  # the same with every column's label (the details)

    @property
    def verdicts(self) -> set[str]:
        return {c.verdict for c in self.cells}

    @property
    def differs(self) -> bool:
        """Environments that have the optimizer disagree (not running the claim included)."""
        return len(self.verdicts - {"absent"}) > 1

    @property
    def changed(self) -> bool:
        return any(c.change for c in self.cells)

    @property
    def counts(self) -> list[tuple[str, str, int]]:
        return tally(c.verdict for c in self.cells)

    @property
    def kinds(self) -> set[str]:
        return {c.kind for c in self.cells if c.kind}

    @property
    def defaults_verdicts(self) -> set[str]:
        """What the cells say at defaults ("absent": a record with no such condition)."""
        return {c.defaults or (c.verdict if not c.recorded else "absent") for c in self.cells}

    @property
    def defaults_kinds(self) -> set[str]:
        return {c.defaults_kind for c in self.cells if c.defaults_kind}


def tally(verdicts: Any) -> list[tuple[str, str, int]]:
    """(css class, symbol, count) per verdict seen, in SHOWN's order."""
    n = Counter(verdicts)
    return [(css(v), SHOWN[v][0], n[v]) for v in SHOWN if n[v]]


@dataclass
class Group:
    label: str
    title: str = ""  # a claim's text, shown under its id
    children: list[Group] = field(default_factory=list)
    rows: list[tuple[str, Row]] = field(default_factory=list)  # (leaf label, row)

    def all_rows(self) -> list[Row]:
        return [r for _, r in self.rows] + [r for g in self.children for r in g.all_rows()]

    def counts(self, env: int) -> list[tuple[str, str, int]]:
        return tally(r.cells[env].verdict for r in self.all_rows())


def scenario_of(record: dict[str, Any]) -> str:
    """The scenario file a claim lives in (test_<scenario>.py), else the claim id's first part."""
    m = _SCENARIO.search(str(record.get("nodeid", "")))
    return m.group(1) if m else str(record.get("claim", "?")).split(".")[0]


def known(verdict: str) -> str:
    """The key of SHOWN a recorded verdict is shown as ("unknown" for one this version does not know)."""
    return verdict if verdict in SHOWN and verdict not in ("not run", "absent", "unknown") else "unknown"


def cell_for(run: Run, key: tuple[str, str]) -> Cell:
    record = run.records.get(key)
    if record is None:
        return Cell("not run" if key[0] in run.optimizers else "absent", "", False)
    verdict = str(record["verdict"])
    shown = known(verdict)
    at_defaults = conditions.of(record).get(conditions.DEFAULTS)
    return Cell(
        shown,
        verdict if shown == "unknown" else SHOWN[shown][1],
        True,
        kind=conditions.kind(record) if shown == "deviation" else "",
        condition=str(record.get("condition") or ""),
        defaults=known(str(at_defaults.get("verdict"))) if at_defaults else "",
        defaults_kind=conditions.kind(at_defaults) if at_defaults and at_defaults.get("verdict") == "deviation" else "",
        verdicts=conditions.verdicts(record),
    )


def build_rows(runs: list[Run], extra_keys: set[tuple[str, str]] = frozenset()) -> tuple[list[Row], dict[str, dict]]:
    """Every (optimizer, claim) any run has (plus extra_keys), and the first record of each claim."""
    keys = sorted({k for r in runs for k in r.records} | set(extra_keys))
    claims: dict[str, dict[str, Any]] = {}
    rows = []
    for i, key in enumerate(keys):
        records = [r.records[key] for r in runs if key in r.records] or [{"claim": key[1]}]
        first = records[0]
        if not claims.get(key[1], {}).get("source"):  # the claim's text and source, from a record that has them
            claims[key[1]] = next((x for x in records if x.get("source")), first)
        rows.append(Row(i, key[0], key[1], scenario_of(first), [cell_for(r, key) for r in runs]))
    names = versions.columns([(r.info.get("keras"), r.info.get("backend"), r.label) for r in runs])
    for row in rows:
        overall = versions.history(names, [c.word if c.recorded else None for c in row.cells])
        at_defaults = versions.history(names, [c.defaults or None for c in row.cells])
        row.history = versions.summary(overall, at_defaults)
        # the details say it for every row seen in two or more columns, differing or not
        seen = [overall.long] if overall.columns > 1 else []
        row.history_long = versions.summary(overall, at_defaults, "long") or seen
    return rows, claims


def by_claim(rows: list[Row], claims: dict[str, dict]) -> list[Group]:
    """scenario -> claim -> optimizer."""
    out: dict[str, dict[str, Group]] = {}
    for row in rows:
        text = str(claims.get(row.claim, {}).get("claim_text", ""))
        out.setdefault(row.scenario, {}).setdefault(row.claim, Group(row.claim, text)).rows.append((row.optimizer, row))
    return [Group(s, children=[c[k] for k in sorted(c)]) for s, c in sorted(out.items())]


def by_optimizer(rows: list[Row]) -> list[Group]:
    """optimizer -> scenario -> claim."""
    out: dict[str, dict[str, Group]] = {}
    for row in rows:
        out.setdefault(row.optimizer, {}).setdefault(row.scenario, Group(row.scenario)).rows.append((row.claim, row))
    return [Group(o, children=[s[k] for k in sorted(s)]) for o, s in sorted(out.items())]
