"""FTRL-Proximal (McMahan et al. 2013): per-coordinate accumulators with l1/l2 regularisation."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.benchmarks import numpy_steps
from conformance.inputs.arguments import NONNEG, NONPOS
from conformance.inputs.spec import OptimizerSpec
from conformance.reference import ftrl

_strength = st.one_of(st.just(0.0), st.floats(0.0, 0.1))

SPEC = OptimizerSpec(
    name="Ftrl",
    hyperparameters={
        "learning_rate_power": st.floats(-1.0, 0.0),
        "initial_accumulator_value": st.floats(0.01, 1.0),
        "l1_regularization_strength": _strength,
        "l2_regularization_strength": _strength,
        "l2_shrinkage_regularization_strength": _strength,
        "beta": st.floats(0.0, 1.0),
    },
    arguments={
        "learning_rate_power": NONPOS,  # the Keras docstring: "less or equal to zero"
        "initial_accumulator_value": NONNEG,
        "l1_regularization_strength": NONNEG,
        "l2_regularization_strength": NONNEG,
        "l2_shrinkage_regularization_strength": NONNEG,
        "beta": NONNEG,
    },
    reference=ftrl,
    torch="torch.optim has no FTRL optimizer",
    optax="optax has no FTRL optimizer",
    family="accumulator",
    numpy_step=numpy_steps.Ftrl,
)
