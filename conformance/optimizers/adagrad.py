"""Adagrad (Duchi et al. 2011): a per-coordinate accumulator of squared gradients."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.benchmarks import numpy_steps
from conformance.independent import optax_impl, torch_optim
from conformance.independent.mapping import Target
from conformance.inputs.arguments import NONNEG
from conformance.inputs.hyperparameters import epsilon
from conformance.inputs.spec import OptimizerSpec
from conformance.reference import adagrad

SPEC = OptimizerSpec(
    name="Adagrad",
    hyperparameters={"initial_accumulator_value": st.floats(0.01, 1.0), "epsilon": epsilon},
    # the Keras docstring: initial_accumulator_value "must be non-negative"
    arguments={"initial_accumulator_value": NONNEG, "epsilon": NONNEG},
    reference=adagrad,
    torch=Target(
        "Adagrad",
        {"learning_rate": "lr", "initial_accumulator_value": "initial_accumulator_value", "epsilon": "eps"},
        adjust={"weight_decay": torch_optim.L2_ONLY},
        library_only={"lr_decay": 0.0, "weight_decay": 0.0},
        probes=torch_optim.NO_EPSILON,
    ),
    optax=Target(
        "adagrad",
        {"learning_rate": "learning_rate", "initial_accumulator_value": "initial_accumulator_value", "epsilon": "eps"},
        adjust={"weight_decay": (None, optax_impl.NO_DECAY.format("adagrad"))},
        # Keras 2's legacy Adagrad adds epsilon outside the square root (ResourceApplyAdagradV2)
        probes=optax_impl.NO_EPSILON,
    ),
    family="accumulator",
    numpy_step=numpy_steps.Adagrad,
)
