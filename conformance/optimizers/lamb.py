"""Lamb (You et al. 2020): Adam's step scaled by a layer-wise trust ratio."""

from __future__ import annotations

from conformance.independent import optax_impl
from conformance.independent.mapping import Target
from conformance.inputs.arguments import ADAM_MOMENTS
from conformance.inputs.hyperparameters import adam_moments
from conformance.inputs.spec import OptimizerSpec
from conformance.reference import lamb

SPEC = OptimizerSpec(
    name="Lamb",
    hyperparameters=adam_moments,
    arguments=ADAM_MOMENTS,
    reference=lamb,
    torch="torch.optim has no LAMB optimizer",
    optax=Target(
        "lamb",
        {"learning_rate": "learning_rate", **optax_impl.ADAM_BETAS},
        adjust={
            "weight_decay": (
                None,
                "optax.lamb adds weight_decay * w to the update inside the trust ratio; "
                "Keras's decay is decoupled, before the step",
            )
        },
        library_only={"eps_root": 0.0, "weight_decay": 0.0},
    ),
    family="adam-like",
    numpy_step="no numpy implementation of Lamb in conformance/benchmarks/numpy_steps.py",
)
