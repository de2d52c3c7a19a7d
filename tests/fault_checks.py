"""One fault through its claim: the faulty optimizer caught, the conforming one passing. Shared by
tests/test_faults_caught.py (Keras 3) and tests/test_keras2_faults.py (Keras 2), and free of any
Keras import of its own, so that it runs under whichever generation the adapter found."""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any, Callable

import pytest

from conformance import scenarios
from conformance.adapters import current
from conformance.core import verdicts
from conformance.core.errors import ClaimFailed
from conformance.core.running import run_claim
from conformance.records import expectations

SCENARIOS = sorted(p.stem for p in Path(scenarios.__file__).parent.glob("test_*.py"))
# The conditions a conforming optimizer must pass outright; in the others (an option alone, inside
# a LossScaleOptimizer) real Keras has declared deviations, which the unmodified optimizer shares.
STRICT = ("defaults", "drawn")


@functools.lru_cache(maxsize=None)
def claim_tests() -> dict[str, Callable[..., Any]]:
    """claim id -> the scenario test function that checks it."""
    out = {}
    for name in SCENARIOS:
        module = importlib.import_module(f"conformance.scenarios.{name}")
        for attr in vars(module).values():
            c = getattr(attr, "claim", None)
            if c is not None:
                out[c.id] = attr
    return out


def verify(claim: str, faulty: Any, passing: Any, side: str) -> None:
    """`claim` catches the `faulty` spec (`side` "faulty": some condition fails) or passes the
    `passing` one ("passing": the defaults and the drawn examples hold, and no other condition
    fails in a way the expectations do not declare)."""
    test = claim_tests()[claim]
    if side == "faulty":
        with pytest.raises(ClaimFailed):
            run_claim(test, spec=faulty)
        return
    rc = run_claim(test, fail_fast=False, spec=passing)
    for o in rc.outcomes:
        if o.condition in STRICT and o.exc is not None:
            raise o.exc
    versions = current().versions()
    judged = verdicts.record(
        rc.outcomes, passing.name, claim, expectations.load(), versions["keras"], versions["backend"]
    )
    undeclared = {n: c["message"][:300] for n, c in judged["conditions"].items() if c["verdict"] in ("fail", "error")}
    assert not undeclared, f"{passing.name} fails {claim} where no deviation is declared: {undeclared}"
