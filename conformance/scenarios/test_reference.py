"""Reference trajectories: Keras follows the published algorithm, state included (the state-persists question).

Every claim here checks the optimizer's anchors first (conformance/inputs/anchors.py): what an update rule's
findings hinge on (a hyperparameter at the top of its range, a lone small gradient element) is
checked on every run, not left to the draw."""

from hypothesis import given
from hypothesis import strategies as st

from conformance.checks import trajectory
from conformance.checks.claims import SOURCES, claim
from conformance.inputs import anchors
from conformance.inputs.strategies import FLOAT32, FLOAT64, LOW_PRECISION, cases

SOURCE = SOURCES["STATE_PERSISTS"] + "; the Keras optimizer docs (keras.io/api/optimizers/<name>) and each paper"


@claim(
    "reference.trajectory",
    "Over k steps in float32, the weights and every state variable follow the float64 "
    "reference implementation of the documented algorithm, and the state carries over between steps.",
    SOURCE,
)
@anchors.with_anchors
@given(data=st.data())
def test_trajectory(spec, data):
    trajectory.check(data.draw(cases(spec, FLOAT32), label="case"))


@claim(
    "reference.trajectory_float64",
    "With float64 variables the optimizer computes in float64: weights and state follow the "
    "reference within float64 precision (hyperparameters and learning rate included).",
    SOURCE,
)
@anchors.with_anchors
@given(data=st.data())
def test_trajectory_float64(spec, data):
    trajectory.check(data.draw(cases(spec, FLOAT64), label="case"))


@claim(
    "reference.trajectory_low_precision",
    "In float16 and bfloat16 the weights and state follow the float64 reference within the "
    "precision of the dtype.",
    SOURCE,
)
@anchors.with_anchors
@given(data=st.data())
def test_trajectory_low_precision(spec, data):
    trajectory.check(data.draw(cases(spec, LOW_PRECISION), label="case"))
