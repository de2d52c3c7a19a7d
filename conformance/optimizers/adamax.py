"""Adamax (Kingma & Ba 2015, section 7.1): Adam with the infinity norm for the second moment."""

from __future__ import annotations

from conformance.benchmarks import numpy_steps
from conformance.independent import optax_impl, torch_optim
from conformance.independent.mapping import Target
from conformance.inputs.arguments import ADAM_MOMENTS
from conformance.inputs.hyperparameters import adam_moments
from conformance.inputs.spec import OptimizerSpec
from conformance.reference import adamax

SPEC = OptimizerSpec(
    name="Adamax",
    hyperparameters=adam_moments,
    arguments=ADAM_MOMENTS,
    reference=adamax,
    torch=Target(
        "Adamax",
        {"learning_rate": "lr", **torch_optim.ADAM_BETAS},
        adjust={"weight_decay": torch_optim.L2_ONLY},
        library_only={"weight_decay": 0.0},
        probes=torch_optim.NO_EPSILON,
    ),
    optax=Target(
        "adamax",
        {"learning_rate": "learning_rate", **optax_impl.ADAM_BETAS},
        adjust={"weight_decay": (None, optax_impl.NO_DECAY.format("adamax"))},
        probes=optax_impl.NO_EPSILON,
    ),
    family="adam-like",
    numpy_step=numpy_steps.Adamax,
)
