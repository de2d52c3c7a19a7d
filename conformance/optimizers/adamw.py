"""AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay (Keras's base weight_decay)."""

from __future__ import annotations

from hypothesis import strategies as st

from ..arguments import ADAM_MOMENTS, FLAG
from ..benchmarks import numpy_steps
from ..hyperparameters import adam_moments
from ..independent import optax_impl, torch_optim
from ..independent.mapping import Target
from ..reference import adamw
from ..spec import OptimizerSpec

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
