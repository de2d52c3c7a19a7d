"""The optimizer x claim matrix printed at the end of a run, and the deviations per kind."""

from __future__ import annotations

from collections import Counter

from conformance.records.results_format import NO_CONDITION


def render(verdicts: dict[tuple[str, str], tuple[str, str]], symbol: dict[str, str]) -> str:
    """Each cell: the verdict at defaults, then the claim's verdict (the worst of its conditions),
    so `PD` is "holds with the defaults, not with some option" and `-P` a claim without defaults."""
    optimizers = sorted({o for o, _ in verdicts})
    claims = sorted({c for _, c in verdicts})
    width = max(len(o) for o in optimizers)
    lines = ["claims:"] + [f"  {i + 1:>2} {c}" for i, c in enumerate(claims)]
    lines.append(" " * width + "  " + " ".join(f"{i + 1:>2}" for i in range(len(claims))))
    for o in optimizers:
        cells = []
        for c in claims:
            defaults, verdict = verdicts.get((o, c), (NO_CONDITION, ""))
            cells.append(symbol.get(defaults, "-") + symbol.get(verdict, "."))
        lines.append(f"{o:<{width}}  " + " ".join(cells))
    lines.append("each cell: the verdict with the defaults (- none checked), then over every condition")
    lines.append("  ".join(f"{s} {v}" for v, s in symbol.items()) + "  . not run")
    for name, pick in (("with the defaults", 0), ("over every condition", 1)):
        totals = Counter(v[pick] for v in verdicts.values())
        lines.append(f"totals {name}: " + ", ".join(f"{v} {totals[v]}" for v in symbol))
    return "\n".join(lines)


def deviation_summary(deviations: dict[tuple[str, str], dict[str, str]]) -> list[str]:
    """(optimizer, claim) pairs with a deviation of each kind (in any condition), and by claim the
    bugs no upstream issue reports. `deviations`: per (optimizer, claim), condition -> "kind|upstream"."""
    if not deviations:
        return []
    kinds: Counter[str] = Counter()
    unreported: dict[str, dict[str, set[str]]] = {}
    for (optimizer, claim), by_condition in sorted(deviations.items()):
        seen = set()
        for condition, tag in by_condition.items():
            kind, _, upstream = tag.partition("|")
            seen.add(kind)
            if kind == "bug" and upstream == "none found":
                unreported.setdefault(claim, {}).setdefault(optimizer, set()).add(condition)
        kinds.update(seen)
    out = ["deviations per kind ((optimizer, claim) pairs, in any condition): "
           + ", ".join(f"{k} {n}" for k, n in kinds.most_common())]
    if unreported:
        out.append(f"bugs no upstream issue reports, in {sum(map(len, unreported.values()))} (optimizer, claim) pairs "
                   "(`python -m conformance.records.expectations --unreported` lists their entries):")
        out += [f"  {claim}: {_few(sorted(by), 'optimizers')} ({_few(sorted(set().union(*by.values())), 'conditions')})"
                for claim, by in sorted(unreported.items())]
    return out


def _few(names: list[str], what: str) -> str:
    return ", ".join(names) if len(names) <= 3 else f"{len(names)} {what}"
