"""Adam (Kingma & Ba 2015): first and second moments with bias corrections."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.benchmarks import numpy_steps
from conformance.independent import optax_impl, torch_optim
from conformance.independent.mapping import Probe, Target
from conformance.inputs.arguments import ADAM_MOMENTS, FLAG
from conformance.inputs.hyperparameters import adam_moments
from conformance.inputs.spec import OptimizerSpec
from conformance.reference import adam

SPEC = OptimizerSpec(
    name="Adam",
    hyperparameters={**adam_moments, "amsgrad": st.booleans()},
    arguments={**ADAM_MOMENTS, "amsgrad": FLAG},
    reference=adam,
    # torch.optim.Adam(decoupled_weight_decay=True) is AdamW: Keras's base weight_decay maps to it.
    torch=Target(
        "Adam",
        {"learning_rate": "lr", **torch_optim.ADAM_BETAS, "amsgrad": "amsgrad", "weight_decay": "weight_decay"},
        library_only={"decoupled_weight_decay": True},
        probes=torch_optim.NO_EPSILON_NO_DECAY,
    ),
    # amsgrad=True selects optax.amsgrad, which takes the same arguments.
    optax=Target(
        "adam",
        {"learning_rate": "learning_rate", **optax_impl.ADAM_BETAS},
        adjust={"weight_decay": (None, optax_impl.NO_DECAY.format("adam") + " (optax.adamw is AdamW)")},
        library_only={"eps_root": 0.0},
        alternatives={"amsgrad": "amsgrad"},
        # optax.amsgrad keeps the maximum of the bias-corrected second moments; the second probe
        # tells that apart from epsilon's placement.
        probes=(*optax_impl.NO_EPSILON, Probe({"epsilon": 0.0, "amsgrad": False})),
    ),
    family="adam-like",
    numpy_step=numpy_steps.Adam,
)
