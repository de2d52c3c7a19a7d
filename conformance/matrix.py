"""The optimizer x claim matrix printed at the end of a run."""

from __future__ import annotations


def render(verdicts: dict[tuple[str, str], str], symbol: dict[str, str]) -> str:
    optimizers = sorted({o for o, _ in verdicts})
    claims = sorted({c for _, c in verdicts})
    width = max(len(o) for o in optimizers)
    lines = ["claims:"] + [f"  {i + 1:>2} {c}" for i, c in enumerate(claims)]
    lines.append(" " * width + "  " + " ".join(f"{i + 1:>2}" for i in range(len(claims))))
    for o in optimizers:
        cells = [symbol.get(verdicts.get((o, c), ""), ".") for c in claims]
        lines.append(f"{o:<{width}}  " + " ".join(f"{x:>2}" for x in cells))
    lines.append("  ".join(f"{s} {v}" for v, s in symbol.items()) + "  . not run")
    totals = {v: sum(1 for x in verdicts.values() if x == v) for v in symbol}
    lines.append("totals: " + ", ".join(f"{v} {n}" for v, n in totals.items()))
    return "\n".join(lines)
