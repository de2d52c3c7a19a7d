"""Every claim catches its seeded fault and passes the unmodified (or conforming) optimizer."""

import importlib
import os
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

import keras
import pytest

from conformance import scenarios
from conformance.adapters import current
from conformance.checks.claims import CLAIMS
from conformance.core import verdicts
from conformance.core.errors import ClaimFailed
from conformance.core.running import run_claim
from conformance.records import expectations
from tests.faulty import Fault, bad_state_faults, faults, reset_faults, state_faults
from tests.faulty_any import any_faults
from tests.faulty_backends import backend_faults
from tests.faulty_distributed import distributed_faults
from tests.faulty_families import family_faults
from tests.faulty_independent import independent_faults
from tests.faulty_lifecycle import lifecycle_faults
from tests.faulty_loss_scale import loss_scale_faults
from tests.faulty_options import option_faults
from tests.faulty_variables import variable_faults

SCENARIOS = sorted(p.stem for p in Path(scenarios.__file__).parent.glob("test_*.py"))


def _claim_tests() -> dict:
    """claim id -> the scenario test function that checks it."""
    out = {}
    for name in SCENARIOS:
        module = importlib.import_module(f"conformance.scenarios.{name}")
        for attr in vars(module).values():
            c = getattr(attr, "claim", None)
            if c is not None:
                out[c.id] = attr
    return out


TESTS = _claim_tests()
FAULTS = (
    faults() + reset_faults() + state_faults() + bad_state_faults() + option_faults() + distributed_faults()
    + independent_faults() + backend_faults() + family_faults() + lifecycle_faults() + any_faults()
    + loss_scale_faults()
    + variable_faults()
)


def test_every_claim_has_a_fault():
    assert set(CLAIMS) == set(TESTS)
    assert set(TESTS) <= {f.claim for f in FAULTS}, set(TESTS) - {f.claim for f in FAULTS}


# The conditions a conforming optimizer must pass outright; in the others (an option alone, inside
# a LossScaleOptimizer) real Keras has declared deviations, which the unmodified optimizer shares.
STRICT = ("defaults", "drawn")


def check(fault: Fault, side: str) -> None:
    """The claim catches the fault (`side` "faulty": some condition fails) or passes the conforming
    optimizer ("passing": the defaults and the drawn examples hold, and no other condition fails
    in a way the expectations do not declare)."""
    if fault.main_backend and fault.main_backend != keras.backend.backend():
        _in_backend(fault, side)
        return
    with (fault.within or nullcontext)():
        if side == "faulty":
            with pytest.raises(ClaimFailed):
                run_claim(TESTS[fault.claim], spec=fault.faulty)
            return
        rc = run_claim(TESTS[fault.claim], fail_fast=False, spec=fault.passing)
    for o in rc.outcomes:
        if o.condition in STRICT and o.exc is not None:
            raise o.exc
    versions = current().versions()
    judged = verdicts.record(
        rc.outcomes, fault.passing.name, fault.claim, expectations.load(), versions["keras"], versions["backend"]
    )
    undeclared = {n: c["message"][:300] for n, c in judged["conditions"].items() if c["verdict"] in ("fail", "error")}
    assert not undeclared, f"{fault.passing.name} fails {fault.claim} where no deviation is declared: {undeclared}"


def _in_backend(fault: Fault, side: str) -> None:
    """Run `check` in a process whose Keras runs `fault.main_backend`."""
    code = (
        "import tests.conftest\n"
        "from tests.test_faults_caught import FAULTS, check\n"
        f"check(next(f for f in FAULTS if (f.claim, f.faulty.name) == {(fault.claim, fault.faulty.name)!r}), "
        f"{side!r})\n"
        "print('checked')\n"
    )
    env = {**os.environ, "KERAS_BACKEND": fault.main_backend}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0 and "checked" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.mark.parametrize("fault", FAULTS, ids=[f"{f.claim}-{f.faulty.name}" for f in FAULTS])
def test_fault_is_caught(fault):
    check(fault, "faulty")


@pytest.mark.parametrize("fault", FAULTS, ids=[f"{f.claim}-{f.passing.name}" for f in FAULTS])
def test_passing_optimizer_passes(fault):
    check(fault, "passing")
