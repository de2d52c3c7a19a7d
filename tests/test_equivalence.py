"""The option-claim driver: state forced by name, and a failure's reproducer that runs on its own."""

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
