"""Muon (Jordan et al. 2024): Newton-Schulz orthogonalised momentum, AdamW for the other variables."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.inputs.arguments import COUNT, DECAY, FLAG, NONNEG, POSITIVE
from conformance.inputs.hyperparameters import beta, beta2, epsilon
from conformance.inputs.spec import OptimizerSpec
from conformance.reference import muon

SPEC = OptimizerSpec(
    name="Muon",
    hyperparameters={
        "adam_beta_1": beta,
        "adam_beta_2": beta2,
        "epsilon": epsilon,
        "momentum": beta,
        "nesterov": st.booleans(),
        "ns_steps": st.integers(1, 6),
        "rms_rate": st.floats(0.1, 0.3),
    },
    arguments={
        "adam_beta_1": DECAY,
        "adam_beta_2": DECAY,
        "adam_weight_decay": NONNEG,
        "epsilon": NONNEG,
        "adam_lr_ratio": POSITIVE,
        "momentum": DECAY,
        "ns_steps": COUNT,
        "nesterov": FLAG,
        "exclude_embeddings": FLAG,
        "rms_rate": NONNEG,
    },
    reference=muon,
    torch="not mapped: torch.optim.Muon updates only 2-D parameters with its own learning-rate adjustment, "
    "while Keras's Muon also applies AdamW to every other variable",
    optax="not mapped: optax.contrib.muon orthogonalises 2-D updates with its own scaling and Keras's Muon "
    "applies AdamW to the other variables",
    family="orthogonalised",
    default_weight_decay=0.004,
    numpy_step="no numpy implementation of Muon in conformance/benchmarks/numpy_steps.py",
)
