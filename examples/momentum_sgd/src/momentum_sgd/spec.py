"""What keras-optimizer-conformance needs to check every claim on MomentumSGD."""

import numpy as np
from hypothesis import strategies as st

from conformance.inputs.arguments import DECAY
from conformance.inputs.spec import OptimizerSpec
from conformance.reference.core import per_variable

from . import MomentumSGD


def _init_one(w, hp):
    return {"velocity": np.zeros_like(w)}


def _update_one(w, g, slots, hp, lr, t):
    v = float(hp["momentum"]) * slots["velocity"] + g  # heavy ball: v = momentum * v + g
    return w - lr * v, {"velocity": v}  # w = w - learning_rate * v


class reference:  # noqa: N801 - a rule is any object with DEFAULTS, init and update
    """The update in float64, written from its definition (not from the class)."""

    DEFAULTS = {"momentum": 0.9}
    init, update = map(staticmethod, per_variable(_init_one, _update_one, DEFAULTS))


SPEC = OptimizerSpec(
    name="MomentumSGD",
    construct=MomentumSGD,
    hyperparameters={"momentum": st.floats(0.0, 0.99)},
    arguments={"momentum": DECAY},
    reference=reference,
    family="sgd",
)
