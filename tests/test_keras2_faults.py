"""What the suite runs on Keras 2 through paths of its own (workers driving tf.keras, both families;
the adapter's LossScaleOptimizer) catches its seeded faults and passes the unmodified optimizers
(tests/faulty_keras2.py). The checks run where the suite runs Keras 2; elsewhere, where tf-keras is
installed, in a process of their own with TF_USE_LEGACY_KERAS=1 (as test_faults_caught runs a
backend's faults in a process of that backend); else they are skipped, saying why."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.adapters import LEGACY_KERAS, current

if current().GENERATION == "keras2":
    from tests.fault_checks import verify
    from tests.faulty_keras2 import keras2_faults

    FAULTS = keras2_faults()

    @pytest.mark.parametrize("side", ["faulty", "passing"])
    @pytest.mark.parametrize("fault", FAULTS, ids=[f"{c}-{f.name}-{p.name}" for c, f, p in FAULTS])
    def test_keras2_fault(fault, side):
        verify(*fault, side)

else:

    def test_keras2_faults_in_a_keras2_process():
        if importlib.util.find_spec("tf_keras") is None:
            pytest.skip(
                "Keras 2's faults need Keras 2 and tf-keras is not installed here: where it is, this test runs "
                "them in a Keras 2 process (or: TF_USE_LEGACY_KERAS=1 python -m pytest tests/test_keras2_faults.py)"
            )
        done = subprocess.run(
            [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider"],
            env={**os.environ, LEGACY_KERAS: "1"},
            capture_output=True,
            text=True,
            timeout=3000,
            cwd=Path(__file__).resolve().parents[1],
        )
        assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
