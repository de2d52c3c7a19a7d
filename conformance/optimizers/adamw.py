"""AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay (Keras's base weight_decay)."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.benchmarks import numpy_steps
from conformance.independent import optax_impl, torch_optim
from conformance.independent.mapping import Target
from conformance.inputs.arguments import ADAM_MOMENTS, FLAG
from conformance.inputs.hyperparameters import adam_moments
from conformance.inputs.spec import OptimizerSpec
from conformance.reference import adamw

SPEC = OptimizerSpec(
    name="AdamW",
    hyperparameters={**adam_moments, "amsgrad": st.booleans()},
    arguments={**ADAM_MOMENTS, "amsgrad": FLAG},
    reference=adamw,
    torch=Target(
        "AdamW",
        {"learning_rate": "lr", **torch_optim.ADAM_BETAS, "amsgrad": "amsgrad", "weight_decay": "weight_decay"},
        probes=torch_optim.NO_EPSILON_NO_DECAY,
    ),
    optax=Target(
        "adamw",
        {"learning_rate": "learning_rate", **optax_impl.ADAM_BETAS, "weight_decay": "weight_decay"},
        adjust={"amsgrad": (False, "optax.adamw has no amsgrad")},
        library_only={"eps_root": 0.0},
        probes=optax_impl.NO_EPSILON,
    ),
    family="adam-like",
    default_weight_decay=0.004,
    numpy_step=numpy_steps.AdamW,
)
