"""Every claim catches its seeded fault and passes the unmodified (or conforming) optimizer."""

import os
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

import keras
import pytest

from conformance.checks.claims import CLAIMS
from tests.fault_checks import claim_tests, verify
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

TESTS = claim_tests()
FAULTS = (
    faults() + reset_faults() + state_faults() + bad_state_faults() + option_faults() + distributed_faults()
    + independent_faults() + backend_faults() + family_faults() + lifecycle_faults() + any_faults()
    + loss_scale_faults()
    + variable_faults()
)


def test_every_claim_has_a_fault():
    assert set(CLAIMS) == set(TESTS)
    assert set(TESTS) <= {f.claim for f in FAULTS}, set(TESTS) - {f.claim for f in FAULTS}


def check(fault: Fault, side: str) -> None:
    """The claim catches the fault (`side` "faulty": some condition fails) or passes the conforming
    optimizer ("passing": the defaults and the drawn examples hold, and no other condition fails
    in a way the expectations do not declare)."""
    if fault.main_backend and fault.main_backend != keras.backend.backend():
        _in_backend(fault, side)
        return
    with (fault.within or nullcontext)():
        verify(fault.claim, fault.faulty, fault.passing, side)


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


def test_overwrite_with_gradient_meets_variables_of_both_kinds_in_its_fixed_conditions():
    # The fault shows only beside ordinary variables; the fixed conditions flag every variable,
    # so without the second arrangement (v0 left ordinary) only some draws would reach it.
    from conformance.core.running import run_claim

    (fault,) = [f for f in loss_scale_faults() if f.faulty.name == "AllOrNothingLossScaleOptimizer"]
    rc = run_claim(TESTS["loss_scale.overwrite_with_gradient"], fail_fast=False, spec=fault.faulty)
    defaults = [o for o in rc.outcomes if o.condition == "defaults"]
    assert defaults and defaults[0].exc is not None, [(o.condition, o.exc) for o in rc.outcomes]
