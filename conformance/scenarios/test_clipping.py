"""Gradient clipping (Keras docs; the Keras optimizers docs notes that legacy apply_gradients did not clip): with
one clipping option set, every step equals the same optimizer without clipping, given the
gradients clipped as documented."""

from hypothesis import given
from hypothesis import strategies as st

from conformance.checks import drive, equivalence
from conformance.checks.claims import BASE_DOCS, SOURCES, claim
from conformance.checks.equivalence import Expected
from conformance.checks.trajectory import rounding
from conformance.inputs.options import Options
from conformance.inputs.strategies import FLOAT32, cases
from conformance.reference import base_options as ref_options

CLIPPING = {
    "clipnorm": "the gradient of each weight is clipped on its own to a norm of at most clipnorm",
    "global_clipnorm": "the gradients of all weights are scaled together to a global norm of at most global_clipnorm",
    "clipvalue": "each gradient element is clipped to [-clipvalue, clipvalue]",
}


def _claim(option: str):
    @claim(
        f"options.{option}",
        f"apply_gradients applies {option}: {CLIPPING[option]}; each step equals the same optimizer "
        "without clipping given the clipped gradients.",
        f"{BASE_DOCS}; {SOURCES['OPTIMIZER_DOCS']} (clipping in apply_gradients)",
    )
    @given(data=st.data())
    def test(spec, data):
        def configure(draw, setup):
            return setup.vary(opts=Options(**{option: draw(st.floats(0.01, 10.0), label=option)}))

        case = data.draw(cases(spec, FLOAT32, configure=configure), label="case")
        plain = case.setup.vary(opts=Options())
        value = rounding(case.dtype)(getattr(case.setup.opts, option))
        clipping = Options(**{option: value})

        def plan(t, before, grads):
            clipped = ref_options.clip(drive.as_dtype(grads, case.dtype), clipping)
            return Expected(
                plain, before.weights, clipped, before, f"the gradients clipped in float64 ({option}={value!r})"
            )

        equivalence.check(case, plan, f"{option} is not applied as documented")

    test.__name__ = f"test_{option}"
    return test


test_clipnorm = _claim("clipnorm")
test_global_clipnorm = _claim("global_clipnorm")
test_clipvalue = _claim("clipvalue")
