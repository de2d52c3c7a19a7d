"""Across backends: the same optimizer, hyperparameters and gradients take the same step on
TensorFlow, JAX and PyTorch.

The backend is fixed per process, so each other installed backend runs in a worker process of
its own (`conformance/distributed/`, kind `backend_<name>`), started once per run. Teacher-forced
like the option claims: before each step of this process's optimizer, the other backend is given
its weights and state and takes the same step; both must agree within the dtype's tolerance."""

from __future__ import annotations

from typing import Any, Callable

from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import equivalence
from conformance.checks.claims import SOURCES, claim
from conformance.checks.equivalence import Expected
from conformance.core import profiles
from conformance.core.errors import Unsupported
from conformance.distributed import isolated
from conformance.inputs.conditions import DEFAULTS_ONLY
from conformance.inputs.strategies import FLOAT32, cases

SOURCE = (
    f"{SOURCES['OPTIMIZER_DOCS']} (one Keras API on every backend); "
    "Keras docs: multi-backend Keras (keras.io/getting_started/)"
)
COSTLY = profiles.costly(2)


def remote_step(backend: str) -> Callable[[Any, dict], dict]:
    """`equivalence.take_step` in `backend`'s worker (which rebuilds the optimizer from its code)."""

    def run(setup: Any, job: dict) -> dict:
        return isolated.request(f"backend_{backend}", {**job, "job": "step"})

    return run


def _claim(backend: str):
    @claim(
        f"backends.{backend}",
        f"The same optimizer, hyperparameters and gradients take the same step on {backend} as on this "
        "process's backend: from the same weights and state, the weights and every state variable "
        "agree within the dtype's tolerance, step after step.",
        SOURCE,
        conditions=DEFAULTS_ONLY,  # each example compiles a step or asks another process
    )
    @COSTLY
    @given(data=st.data())
    def test(spec, data):
        a = adapter()
        here = a.versions()
        if not a.MULTI_BACKEND:
            raise Unsupported(f"{here['generation']} runs on TensorFlow only")
        if here["backend"] == backend:
            raise Unsupported(f"this process runs {backend}: it is compared with the other backends in their claims")
        case = data.draw(cases(spec, FLOAT32), label="case")
        step = equivalence.relocated(remote_step(backend), case.dtype)

        def plan(t, before, grads):
            return Expected(case.setup, before.weights, grads, before, f"the same step on {backend}", apply=step)

        equivalence.check(
            case,
            plan,
            f"a step on {backend} differs from the step on {here['backend']}",
            labels=(here["backend"], backend),
            amplification=equivalence.rule_amplification(case.setup),
        )

    test.__name__ = f"test_{backend}"
    return test


test_tensorflow = _claim("tensorflow")
test_jax = _claim("jax")
test_torch = _claim("torch")
