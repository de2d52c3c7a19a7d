"""The mutation table (issue 8): every seeded fault, the optimizer family it mutates, the claim that
must catch it and the optimizer that claim must pass.

    python -m scripts.mutation [--run] [--markdown PATH]

prints the table as Markdown (and writes it to PATH). With --run it checks both sides of every row
as tests/test_faults_caught.py does, fills in "caught" and "passing passes" (yes/NO and seconds),
prints progress to stderr and exits 1 if any fault goes uncaught or any passing optimizer fails.

Importing this module is cheap: Keras and the faults load only when a function needs them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from conformance.inputs import registry

if TYPE_CHECKING:
    from conformance.inputs.catalogue import Spec
    from tests.faulty import Fault

# The optimizer families (each built-in's record names its own, conformance/optimizers/):
# optimizers that share the structure of their update, and so the places a bug hides. A fault
# belongs to the family of the built-in it modifies (for a conforming double on the passing side,
# the built-in that is the fault), else of its spec's parent.
FAMILIES = tuple(registry.FAMILIES)
MIN_FAULTS = 3  # distinct faulty optimizers each family must have


@dataclass
class Row:
    fault: str  # the faulty optimizer's class name
    what: str  # its docstring's first line (or wrapped sentence): the seeded bug
    family: str
    claim: str  # the claim that must catch it
    passing: str  # the optimizer the same claim must pass
    # After --run: whether the claim caught the fault and passed the passing optimizer, and the seconds each took.
    caught: bool | None = None
    passes: bool | None = None
    seconds: tuple[float, float] = (0.0, 0.0)

    def cell(self, column: str) -> str:
        if column in ("caught", "passes"):
            ok, s = getattr(self, column), self.seconds[column == "passes"]
            return f"{'yes' if ok else 'NO'} ({s:.1f} s)"
        return getattr(self, column).replace("|", "\\|")


def family(spec: Spec) -> str:
    """The family of the built-in `spec`'s optimizer is or modifies, else of its parent."""
    from tests.faulty import keras_base

    name = keras_base(spec.cls).__name__ if spec.cls is not None else spec.parent
    record = registry.record(name or "") or registry.record(spec.parent or "")
    return (record and record.family) or "unknown"


def _what(spec: Spec) -> str:
    cls = spec.cls
    if cls is None or cls.__module__.startswith("keras"):
        return "the unmodified Keras built-in, which fails this claim (the passing side is a conforming double)"
    # The docstring's first line, continued to the end of its paragraph where it wraps.
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(line.strip() for line in doc.splitlines()) or cls.__name__


def rows(faults: Iterable[Fault]) -> list[Row]:
    return [Row(f.faulty.name, _what(f.faulty), family(f.faulty), f.claim, f.passing.name) for f in faults]


def shortfalls(faults: list[Fault], claims: Iterable[str]) -> dict[str, object]:
    """Families with fewer than MIN_FAULTS distinct faulty optimizers (family -> how many) and
    claims without a fault; empty when every family and claim is covered."""
    per_family: dict[str, set] = defaultdict(set)
    for f in faults:
        per_family[family(f.faulty)].add(f.faulty.cls or f.faulty.name)
    short = {fam: len(per_family[fam]) for fam in FAMILIES if len(per_family[fam]) < MIN_FAULTS}
    uncovered = sorted(set(claims) - {f.claim for f in faults})
    return {k: v for k, v in (("families", short), ("claims", uncovered)) if v}


def _timed(fn: Callable[[], None]) -> tuple[bool, float]:
    """Whether `fn` returned, and the seconds it took; why not goes to stderr."""
    import pytest

    start = time.perf_counter()
    try:
        fn()
        ok = True
    except (Exception, pytest.fail.Exception, pytest.skip.Exception) as e:
        ok = False
        print(f"    {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300], file=sys.stderr)
    return ok, time.perf_counter() - start


def run(faults: list[Fault], table: list[Row]) -> bool:
    """Check both sides of every row; True when every fault is caught and every passing optimizer passes."""
    from tests.test_faults_caught import check

    all_ok = True
    for i, (f, row) in enumerate(zip(faults, table), 1):
        row.caught, s_caught = _timed(lambda: check(f, "faulty"))
        row.passes, s_passes = _timed(lambda: check(f, "passing"))
        row.seconds = (s_caught, s_passes)
        all_ok = all_ok and row.caught and row.passes
        print(f"[{i}/{len(table)}] {row.fault} / {row.claim}: caught {row.cell('caught')}, "
              f"passing passes {row.cell('passes')}", file=sys.stderr, flush=True)
    return all_ok


def markdown(table: list[Row], ran: bool) -> str:
    cols = ["fault", "what", "family", "claim", "passing"] + (["caught", "passes"] if ran else [])
    heads = {"what": "seeded bug", "passes": "passing passes"}
    lines = ["| # | " + " | ".join(heads.get(c, c) for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    lines += [f"| {i} | " + " | ".join(r.cell(c) for c in cols) + " |" for i, r in enumerate(table, 1)]
    return "\n".join(lines + ["", summary(table, ran)])


def summary(table: list[Row], ran: bool) -> str:
    """Per family: built-ins, distinct faulty optimizers, rows (and, after a run, how many caught)."""
    distinct = {fam: len({r.fault for r in table if r.family == fam}) for fam in FAMILIES}
    counts = Counter(r.family for r in table)
    caught = Counter(r.family for r in table if r.caught)
    lines = [
        "| family | built-ins | faulty optimizers | rows |" + (" caught |" if ran else ""),
        "|---|---|---|---|" + ("---|" if ran else ""),
    ]
    for fam in FAMILIES:
        members = ", ".join(n for n, s in registry.builtin().items() if s.family == fam)
        lines.append(
            f"| {fam} | {members} | {distinct[fam]} | {counts[fam]} |"
            + (f" {caught[fam]}/{counts[fam]} |" if ran else "")
        )
    if ran:
        passed = sum(bool(r.passes) for r in table)
        seconds = sum(sum(r.seconds) for r in table)
        lines += [
            "",
            f"Mutation score: {sum(caught.values())}/{len(table)} faults caught; "
            f"{passed}/{len(table)} passing optimizers pass; {seconds:.0f} s in checks.",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="store_true", help="check every fault against its claim")
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="also write the table to PATH")
    args = parser.parse_args(argv)
    import tests.conftest  # noqa: F401 - the selftest hypothesis profile, before Keras loads
    from tests.test_faults_caught import FAULTS

    table = rows(FAULTS)
    ok = run(FAULTS, table) if args.run else True
    text = markdown(table, args.run)
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
