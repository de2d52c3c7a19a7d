"""Adadelta (Zeiler 2012): running averages of squared gradients and of squared updates."""

from __future__ import annotations

from conformance.benchmarks import numpy_steps
from conformance.independent import torch_optim
from conformance.independent.mapping import Target
from conformance.inputs.arguments import DECAY, NONNEG
from conformance.inputs.hyperparameters import beta, epsilon
from conformance.inputs.spec import OptimizerSpec
from conformance.reference import adadelta

SPEC = OptimizerSpec(
    name="Adadelta",
    hyperparameters={"rho": beta, "epsilon": epsilon},
    arguments={"rho": DECAY, "epsilon": NONNEG},
    reference=adadelta,
    torch=Target(
        "Adadelta",
        {"learning_rate": "lr", "rho": "rho", "epsilon": "eps"},
        adjust={"weight_decay": torch_optim.L2_ONLY},
        library_only={"weight_decay": 0.0},
    ),
    optax=Target(
        "adadelta",
        {"learning_rate": "learning_rate", "rho": "rho", "epsilon": "eps"},
        adjust={
            "weight_decay": (
                None,
                "optax.adadelta adds weight_decay * w to the gradient before scaling it; Keras's decay is decoupled",
            )
        },
        library_only={"weight_decay": 0.0},
    ),
    family="accumulator",
    numpy_step=numpy_steps.Adadelta,
)
