"""Eager versus compiled steps: the backend's compiled optimizer step (tf.function, with or
without XLA, on TensorFlow; jax.jit of stateless_apply on JAX) does what the eager step does.

Teacher-forced like the option claims (`conformance/checks/equivalence.py`): before each eager step,
an optimizer (one per example, compiled once) is given the eager one's weights and state and takes
the same step compiled, its gradients passed in as a training step's are; both must agree within
the dtype's tolerance (compilers may fuse operations and round differently, so not bit for bit),
`iterations` included."""

from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import equivalence
from conformance.checks.claims import SOURCES, claim
from conformance.checks.equivalence import Expected
from conformance.core import profiles
from conformance.inputs.conditions import DEFAULTS_ONLY
from conformance.inputs.strategies import FLOAT32, cases

SOURCE = (f"{SOURCES['STATE_PERSISTS']}; Keras docs: jit_compile (keras.io/api/models/model_training_apis/), "
          "Optimizer.stateless_apply (keras.io/api/optimizers/)")
MODES = {
    "function": "a compiled function (tf.function on TensorFlow, jax.jit of optimizer.stateless_apply on JAX)",
    "xla": "an XLA-compiled function (tf.function(jit_compile=True) on TensorFlow)",
}
COSTLY = profiles.costly(2)


def _claim(mode: str):
    @claim(
        f"compiled.{mode}",
        f"apply_gradients run inside {MODES[mode]} takes the same step as eager apply_gradients: from "
        "the same weights and state, the weights, every state variable and iterations agree within "
        "the dtype's tolerance, step after step.",
        SOURCE,
        conditions=DEFAULTS_ONLY,  # each example compiles a step or asks another process
    )
    @COSTLY
    @given(data=st.data())
    def test(spec, data):
        step = adapter().compiled_apply(mode)  # Unsupported where the backend cannot compile so
        describe = adapter().compiled_modes()[mode]
        case = data.draw(cases(spec, FLOAT32), label="case")
        kept: dict = {}  # one compiled optimizer for every step of the example: compiled once

        def plan(t, before, grads):
            return Expected(case.setup, before.weights, grads, before, f"the same step under {describe}",
                            apply=lambda setup, *args: step(*args), reuse=kept)

        equivalence.check(
            case,
            plan,
            f"a step under {describe} differs from the eager step",
            labels=("eager", "compiled"),
            amplification=equivalence.rule_amplification(case.setup),
        )

    test.__name__ = f"test_{mode}"
    return test


test_function = _claim("function")
test_xla = _claim("xla")
