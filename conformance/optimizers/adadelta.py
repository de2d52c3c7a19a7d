"""Adadelta (Zeiler 2012): running averages of squared gradients and of squared updates."""

from __future__ import annotations

from ..arguments import DECAY, NONNEG
from ..benchmarks import numpy_steps
from ..hyperparameters import beta, epsilon
from ..independent import torch_optim
from ..independent.mapping import Target
from ..reference import adadelta
from ..spec import OptimizerSpec

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
        adjust={"weight_decay": (None, "optax.adadelta adds weight_decay * w to the gradient before scaling it; Keras's decay is decoupled")},
        library_only={"weight_decay": 0.0},
    ),
    family="accumulator",
    numpy_step=numpy_steps.Adadelta,
)
