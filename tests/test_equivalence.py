"""The option-claim driver: state forced by name, an optimizer kept across steps stepping as a new
one, and a failure's reproducer that runs on its own."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conformance.adapters import current
from conformance.checks import equivalence
from conformance.core.errors import ClaimFailed
from conformance.core.running import run_claim
from conformance.scenarios import test_weight_decay
from tests import faulty_options
from tests.faulty import sgd

ROOT = Path(__file__).resolve().parents[1]
a = current()


def test_forced_values_pair_by_name_and_shape_in_order():
    opt = a.keras_module.optimizers.SGD(momentum=0.5)
    vs = a.variables([np.ones((2,)), np.ones((3,))], "float32")
    a.build(opt, vs)
    own = a.state(opt)
    given = [sv.__class__(sv.path, sv.name, sv.shape, sv.dtype, sv.value + 7) for sv in own]
    values = equivalence.forced_values(own, given[1:], {"iteration": 3})
    assert int(values[0]) == 3  # forced
    np.testing.assert_array_equal(values[2], own[2].value + 7)  # v0_momentum from `given`
    np.testing.assert_array_equal(values[1], own[1].value + 7)  # learning_rate from `given`


def test_a_caught_fault_prints_a_reproducer_that_runs(tmp_path):
    with pytest.raises(ClaimFailed) as e:
        run_claim(
            test_weight_decay.test_exclude_from_weight_decay_var_names, spec=sgd(faulty_options.IgnoresVarNamesSGD)
        )
    message, repro = str(e.value), e.value.reproducer
    assert "weight decay is not applied as documented" in message and "exclude_from_weight_decay(var_names=" in repro
    assert repro.index("exclude_from_weight_decay") < repro.index("opt.build(variables)")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", repro], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "weights:" in r.stdout


def _values(snap) -> list[np.ndarray]:
    return [*snap.weights, *[sv.value for sv in snap.state]]


def test_a_kept_optimizer_steps_as_a_new_one_would():
    # Expected.reuse keeps one optimizer across a claim's steps (a compiled step traced once): given
    # each step's weights and state, it must step exactly as a new optimizer, state the start leaves
    # out included (back to its value as built, not the previous step's)
    from dataclasses import replace

    from conformance.checks import drive
    from conformance.distributed.jobs import setup_of

    setup = setup_of({"spec": "SGD", "code": "keras.optimizers.SGD(momentum=0.9)", "imports": ""})
    opt = setup.build()
    vs = a.variables([np.ones(2)], "float32")
    a.build(opt, vs)
    reuse: dict = {}

    def step(weights: float, grads: float, start: drive.Snapshot, kept: dict | None) -> drive.Snapshot:
        exp = equivalence.Expected(setup, [np.full(2, weights)], [np.full(2, grads)], start, "test", reuse=kept)
        return equivalence.step(exp, "float32")

    first = step(1.0, 0.5, drive.snapshot(opt, vs), reuse)
    assert np.any(first.state[-1].value != 0)  # the momentum moved: the next steps start from it
    for start in (first, replace(first, state=[sv for sv in first.state if sv.name != "v0_momentum"])):
        kept, new = step(3.0, -1.0, start, reuse), step(3.0, -1.0, start, None)
        for x, y in zip(_values(kept), _values(new)):
            np.testing.assert_array_equal(x, y)
    assert len(reuse) == 1
