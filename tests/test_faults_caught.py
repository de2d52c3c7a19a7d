"""Every claim catches its seeded fault and passes the unmodified (or conforming) optimizer."""

import importlib
from pathlib import Path

import pytest

from conformance import scenarios
from conformance.claims import CLAIMS
from conformance.errors import ClaimFailed
from tests.faulty import bad_state_faults, faults, reset_faults, state_faults
from tests.faulty_distributed import distributed_faults
from tests.faulty_options import option_faults

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
FAULTS = faults() + reset_faults() + state_faults() + bad_state_faults() + option_faults() + distributed_faults()


def test_every_claim_has_a_fault():
    assert set(CLAIMS) == set(TESTS)
    assert set(TESTS) <= {f.claim for f in FAULTS}, set(TESTS) - {f.claim for f in FAULTS}


@pytest.mark.parametrize("fault", FAULTS, ids=[f"{f.claim}-{f.faulty.name}" for f in FAULTS])
def test_fault_is_caught(fault):
    with pytest.raises(ClaimFailed):
        TESTS[fault.claim](spec=fault.faulty)


@pytest.mark.parametrize("fault", FAULTS, ids=[f"{f.claim}-{f.passing.name}" for f in FAULTS])
def test_passing_optimizer_passes(fault):
    TESTS[fault.claim](spec=fault.passing)
