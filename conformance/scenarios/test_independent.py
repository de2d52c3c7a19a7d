"""Independent implementations: a Keras optimizer follows torch.optim's and optax's version of it."""

from hypothesis import given
from hypothesis import strategies as st

from conformance.checks.claims import claim
from conformance.core import profiles
from conformance.independent import check
from conformance.inputs import anchors

KERAS_DOCS = "the Keras optimizer docs (keras.io/api/optimizers/<name>)"
# Cheap examples, but one library run, three perturbed ones and a Keras run each: half the profile's.
COSTLY = profiles.costly(2)


def _independent_claim(library: str):
    """One claim per library: the same comparison, mapped by that library's table."""
    lib = check.LIBRARIES[library]

    @claim(
        f"independent.{library}",
        f"For the same initial weights, hyperparameters (mapped as the table in {lib.__name__} says) and "
        f"gradient sequence, the Keras optimizer's weights after each of k steps equal those of its "
        f"{lib.LABEL} counterpart within the tolerance of the dtype and step count (float64 variables).",
        f"the {lib.LABEL} docs ({lib.DOCS}); {KERAS_DOCS}",
    )
    @anchors.with_anchors  # the differences hinge on epsilon and tiny gradients (conformance/inputs/anchors.py)
    @COSTLY
    @given(data=st.data())
    def test(spec, data):
        check.check(data, spec, library)

    return test


test_torch = _independent_claim("torch")
test_optax = _independent_claim("optax")
