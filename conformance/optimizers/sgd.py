"""SGD with (Nesterov) momentum: one velocity, no normalisation."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.benchmarks import numpy_steps
from conformance.independent import optax_impl, torch_optim
from conformance.independent.mapping import Target
from conformance.inputs.arguments import DECAY, FLAG
from conformance.inputs.hyperparameters import momentum
from conformance.inputs.spec import OptimizerSpec
from conformance.reference import sgd

SPEC = OptimizerSpec(
    name="SGD",
    hyperparameters={"momentum": momentum, "nesterov": st.booleans()},
    arguments={"momentum": DECAY, "nesterov": FLAG},
    reference=sgd,
    torch=Target(
        "SGD",
        {"learning_rate": "lr", "momentum": "momentum", "nesterov": "nesterov"},
        adjust={
            "nesterov": (
                lambda hp: bool(hp["nesterov"]) and hp["momentum"] > 0,
                "False when momentum == 0: torch rejects nesterov without momentum, and Keras's "
                "Nesterov step with momentum 0 is the plain step",
            ),
            "weight_decay": torch_optim.L2_ONLY,
        },
        library_only={"dampening": 0.0, "weight_decay": 0.0},
    ),
    optax=Target(
        "sgd",
        {"learning_rate": "learning_rate", "momentum": "momentum", "nesterov": "nesterov"},
        adjust={"weight_decay": (None, optax_impl.NO_DECAY.format("sgd"))},
    ),
    family="sgd",
    numpy_step=numpy_steps.SGD,
)
