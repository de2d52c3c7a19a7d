"""The report's opening view: per environment, a compact grid of claims (rows, grouped by scenario)
by optimizers (columns), so that a whole environment fits on a screen or two.

A grid cell is the row list's cell of that (optimizer, claim) in that environment (table.Row), shown
as two symbols: the verdict at defaults (the optimizer constructed with no arguments: what most
users meet first), then the claim's verdict over every condition, which colours the cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.report.table import Row


@dataclass
class Claim:
    claim: str
    label: str  # the claim id without its scenario's prefix: the scenario is beside it
    text: str
    rows: dict[str, Row] = field(default_factory=dict)  # optimizer -> the row list's row


@dataclass
class Scenario:
    name: str
    claims: list[Claim] = field(default_factory=list)


@dataclass
class Grid:
    optimizers: list[str]
    scenarios: list[Scenario]

    @property
    def claims(self) -> int:
        return sum(len(s.claims) for s in self.scenarios)


def _label(claim: str, scenario: str) -> str:
    prefix = scenario + "."
    return claim[len(prefix):] if claim.startswith(prefix) and len(claim) > len(prefix) else claim


def build(rows: list[Row], claims: dict[str, dict]) -> Grid:
    """The grid's rows and columns: every claim and every optimizer any environment has."""
    scenarios: dict[str, dict[str, Claim]] = {}
    for row in rows:
        by_claim = scenarios.setdefault(row.scenario, {})
        if row.claim not in by_claim:
            text = str(claims.get(row.claim, {}).get("claim_text", ""))
            by_claim[row.claim] = Claim(row.claim, _label(row.claim, row.scenario), text)
        by_claim[row.claim].rows[row.optimizer] = row
    return Grid(sorted({r.optimizer for r in rows}, key=str.casefold),
                [Scenario(name, [c[k] for k in sorted(c)]) for name, c in sorted(scenarios.items())])
