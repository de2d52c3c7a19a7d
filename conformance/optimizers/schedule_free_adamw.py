"""Schedule-free AdamW (Defazio et al. 2024): AdamW with interpolation and averaging instead of a schedule."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.inputs.arguments import ADAM_MOMENTS, Domain
from conformance.inputs.hyperparameters import adam_moments
from conformance.inputs.spec import OptimizerSpec
from conformance.reference import schedule_free_adamw

SPEC = OptimizerSpec(
    name="ScheduleFreeAdamW",
    hyperparameters={**adam_moments, "warmup_steps": st.integers(0, 3)},
    arguments={**ADAM_MOMENTS, "warmup_steps": Domain(0, integer=True)},
    reference=schedule_free_adamw,
    torch="torch.optim has no schedule-free AdamW (it lives in the separate schedulefree package)",
    optax="not mapped: optax.contrib.schedule_free_adamw wraps a base optimizer with its own "
    "warmup and averaging weights",
    family="adam-like",
    numpy_step="no numpy implementation of ScheduleFreeAdamW in conformance/benchmarks/numpy_steps.py",
)
