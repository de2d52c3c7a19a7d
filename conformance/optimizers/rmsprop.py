"""RMSprop (Hinton's lecture 6e): a running average of squared gradients, optionally centred."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.benchmarks import numpy_steps
from conformance.independent import optax_impl, torch_optim
from conformance.independent.mapping import Probe, Target
from conformance.inputs.arguments import DECAY, FLAG, NONNEG
from conformance.inputs.hyperparameters import beta, epsilon, momentum
from conformance.inputs.spec import OptimizerSpec
from conformance.reference import rmsprop

SPEC = OptimizerSpec(
    name="RMSprop",
    hyperparameters={"rho": beta, "momentum": momentum, "epsilon": epsilon, "centered": st.booleans()},
    arguments={"rho": DECAY, "momentum": DECAY, "epsilon": NONNEG, "centered": FLAG},
    reference=rmsprop,
    torch=Target(
        "RMSprop",
        {"learning_rate": "lr", "rho": "alpha", "momentum": "momentum", "epsilon": "eps", "centered": "centered"},
        adjust={"weight_decay": torch_optim.L2_ONLY},
        library_only={"weight_decay": 0.0},
        # Keras adds epsilon inside the square root, torch outside: with epsilon=1e-300 and
        # eps=1e-150 the two are the same where the (centred) second moment is 0 (centered=True
        # with rho=0 makes it exactly 0) and negligible elsewhere; Keras 2's legacy RMSprop
        # cannot take epsilon=0. The third isolates the centred variance, which torch computes
        # with a fused multiply-add (square_avg - grad_avg * grad_avg, the product unrounded).
        probes=(
            Probe({"epsilon": 0.0}),
            Probe({"epsilon": 1e-300}, {"eps": 1e-150}),
            Probe({"epsilon": 1e-300, "centered": False}, {"eps": 1e-150}),
        ),
    ),
    # eps_in_sqrt=True (optax's default) and no bias correction: optax's documented defaults.
    optax=Target(
        "rmsprop",
        {
            "learning_rate": "learning_rate",
            "rho": "decay",
            "epsilon": "eps",
            "centered": "centered",
            "momentum": "momentum",
        },
        adjust={"weight_decay": (None, optax_impl.NO_DECAY.format("rmsprop"))},
        library_only={"initial_scale": 0.0, "eps_in_sqrt": True, "bias_correction": False, "nesterov": False},
        # Keras 2's legacy RMSprop without momentum adds epsilon outside the square root (its
        # fused kernels, with momentum, inside): optax's other placement
        probes=(Probe(library={"eps_in_sqrt": False}),),
    ),
    family="accumulator",
    numpy_step=numpy_steps.RMSprop,
)
