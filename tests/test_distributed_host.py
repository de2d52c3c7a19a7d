"""The distributed claims' machinery: worker processes that hang or die become errors carrying
their output (never a stuck run), one grown too large is replaced, a missing backend is
`unsupported`, and the drawn replica gradients sum exactly in any order."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current
from conformance.core.errors import Unsupported
from conformance.distributed import host
from conformance.inputs.strategies import SIGNIFICANT_BITS, array, exact_sum_grid

JOB = {"job": "replicas", "spec": "SGD", "imports": "", "dtype": "float32", "weights": [np.ones(2)],
       "replica_grads": [[[np.array([1.0, 2.0])], [np.array([0.5, -1.0])]]], "n": 2, "built": True, "compiled": False}


@pytest.fixture
def mirrored(monkeypatch):
    monkeypatch.setattr(host, "JOB_S", 6)
    h = host.Host(host.KINDS["mirrored"])
    yield h
    h.stop()


def test_a_hanging_worker_is_an_error_with_its_output_and_the_next_test_starts_afresh(mirrored):
    hang = {
        **JOB,
        "code": "print('about to hang', flush=True) or __import__('time').sleep(600) or keras.optimizers.SGD()",
    }
    with pytest.raises(host.WorkerFailed, match=r"(?s)did not answer within 6 s.*about to hang"):
        mirrored.request(hang)
    with pytest.raises(host.WorkerFailed):  # the same test: at once, not after another timeout
        mirrored.request({**JOB, "code": "keras.optimizers.SGD()"})
    mirrored.failure = None  # what host.forget_failures() does between tests
    assert "ok" in mirrored.request({**JOB, "code": "keras.optimizers.SGD()"})[0]


def test_a_dying_worker_is_an_error_with_its_exit_status(mirrored):
    with pytest.raises(host.WorkerFailed, match=r"worker 0 died \(exit 7\) while running job"):
        mirrored.request({**JOB, "code": "__import__('os')._exit(7)"})


def test_a_broken_harness_in_the_worker_is_an_error_with_its_traceback(mirrored):
    with pytest.raises(host.WorkerFailed, match="harness raised"):
        host.outcome(mirrored.request({**JOB, "code": "keras.optimizers.SGD()", "job": "no such job"})[0])


def test_a_worker_grown_past_the_recycling_size_answers_then_a_fresh_one_takes_the_next_job(mirrored, monkeypatch):
    from conformance.core.resident import resident

    plain = {**JOB, "code": "keras.optimizers.SGD()"}
    assert "ok" in mirrored.request(plain)[0]
    first = mirrored.procs[0].popen.pid
    monkeypatch.setattr(host, "RECYCLE_BYTES", resident(first) + 200 * 2**20)
    assert "ok" in mirrored.request(plain)[0] and mirrored.procs[0].popen.pid == first  # not grown: kept
    grow = "__import__('builtins').__dict__.setdefault('hog', b'x' * 300 * 2**20)"  # 300 MB, written
    hog = {**JOB, "code": f"{grow} and keras.optimizers.SGD()"}
    assert "ok" in mirrored.request(hog)[0]  # its answer stands
    assert mirrored.procs == []  # stopped
    assert "ok" in mirrored.request(plain)[0] and mirrored.procs[0].popen.pid != first


def test_a_backend_that_is_not_installed_is_unsupported():
    h = host.Host(host.Kind("nowhere", "no_such_backend_module", "jax"))
    with pytest.raises(Unsupported, match="no_such_backend_module, which is not installed"):
        h.request(JOB)


@given(data=st.data())
def test_replica_gradients_sum_exactly_in_any_order(data):
    dtype = data.draw(st.sampled_from(sorted(SIGNIFICANT_BITS)))
    n = data.draw(st.integers(2, 4))
    arrays = exact_sum_grid([data.draw(array((3,), dtype)) for _ in range(n)], dtype, 4)
    exact = np.sum(arrays, axis=0)
    cast = current().np_dtype(dtype)
    for order in itertools.permutations(range(n)):
        total = np.zeros(3, cast)
        for i in order:
            total = (total + np.asarray(arrays[i]).astype(cast)).astype(cast)
        assert np.array_equal(total.astype(np.float64), exact), (dtype, order, total, exact)


def test_a_mirrored_reproducer_runs_standalone_and_shows_the_difference(tmp_path):
    import os
    import re
    import subprocess
    import sys

    from conformance.distributed import scripts

    job = {
        **JOB,
        "imports": "from tests.distributed_doubles import ReplicaScaledSGD",
        "code": "ReplicaScaledSGD(learning_rate=0.5)",
    }
    path = tmp_path / "repro.py"
    path.write_text(scripts.tf_steps(job, "mirrored", compiled=True, steps=1))
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=300).stdout
    replicated = re.search(r"^v0 \[array\(\[([^\]]*)\]", out, re.M)
    one = re.search(r"^one device v0 \[([^\]]*)\]", out, re.M)
    assert replicated and one, out
    # The learning rate doubled on 2 replicas: 1 - 2 * 0.5 * 1.5 = -0.5 against 1 - 0.5 * 1.5 = 0.25.
    assert np.fromstring(replicated.group(1), sep=",")[0] == -0.5 and np.fromstring(one.group(1), sep=" ")[0] == 0.25, (
        out
    )


def test_a_worker_on_a_backend_the_generation_lacks_is_unsupported(monkeypatch):
    """Keras 2 runs on TensorFlow only: DataParallel's worker (Keras 3 on JAX) says so, never starts."""
    monkeypatch.setattr(current(), "MULTI_BACKEND", False)
    with pytest.raises(Unsupported, match=r"data_parallel workers run the suite's optimizers on jax, .* on TensorFlow"):
        host.Host(host.KINDS["data_parallel"]).request(JOB)


def test_a_worker_running_another_keras_generation_is_an_error(monkeypatch):
    """The workers inherit the suite's environment (TF_USE_LEGACY_KERAS included); one that imported
    another generation would judge other optimizers than the suite drew."""
    monkeypatch.setattr(current(), "GENERATION", "keras2")
    h = host.Host(host.KINDS["mirrored"])
    try:
        with pytest.raises(host.WorkerFailed, match=r"mirrored workers run \['keras3'\], the suite keras2"):
            h.request(JOB)
    finally:
        h.stop()
