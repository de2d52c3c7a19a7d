"""Keras optimizers mapped to `torch.optim` (https://pytorch.org/docs/stable/optim.html).

Every argument below is named as the torch.optim documentation names it; every Keras
hyperparameter is named as the Keras documentation does. `run` steps the torch optimizer in
float64 on the CPU.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Sequence

import numpy as np

from .mapping import Probe, Target

LABEL = "torch.optim"
DOCS = "https://pytorch.org/docs/stable/optim.html"
MODULE = "torch"

# torch.optim's weight_decay adds weight_decay * w to the gradient (L2 regularisation), while
# Keras's weight_decay is decoupled (w -= learning_rate * weight_decay * w before the step).
L2_ONLY = (None, "torch's weight_decay here is L2 on the gradient, Keras's is decoupled: not drawn")
ADAM_BETAS = {"beta_1": "betas[0]", "beta_2": "betas[1]", "epsilon": "eps"}
# Where epsilon sits differs between libraries (inside or outside a square root or a max, before
# or after bias correction); with epsilon 0 on both sides that difference vanishes.
NO_EPSILON = (Probe({"epsilon": 0.0}),)
# ...and with weight decay 0 too: isolates a difference in how the decoupled decay is computed.
NO_EPSILON_NO_DECAY = (*NO_EPSILON, Probe({"epsilon": 0.0, "weight_decay": 0.0}))

TABLE: dict[str, Target] = {
    "SGD": Target(
        "SGD",
        {"learning_rate": "lr", "momentum": "momentum", "nesterov": "nesterov"},
        adjust={
            "nesterov": (
                lambda hp: bool(hp["nesterov"]) and hp["momentum"] > 0,
                "False when momentum == 0: torch rejects nesterov without momentum, and Keras's "
                "Nesterov step with momentum 0 is the plain step",
            ),
            "weight_decay": L2_ONLY,
        },
        library_only={"dampening": 0.0, "weight_decay": 0.0},
    ),
    # torch.optim.Adam(decoupled_weight_decay=True) is AdamW: Keras's base weight_decay maps to it.
    "Adam": Target(
        "Adam",
        {"learning_rate": "lr", **ADAM_BETAS, "amsgrad": "amsgrad", "weight_decay": "weight_decay"},
        library_only={"decoupled_weight_decay": True},
        probes=NO_EPSILON_NO_DECAY,
    ),
    "AdamW": Target(
        "AdamW", {"learning_rate": "lr", **ADAM_BETAS, "amsgrad": "amsgrad", "weight_decay": "weight_decay"}, probes=NO_EPSILON_NO_DECAY
    ),
    "Adagrad": Target(
        "Adagrad",
        {"learning_rate": "lr", "initial_accumulator_value": "initial_accumulator_value", "epsilon": "eps"},
        adjust={"weight_decay": L2_ONLY},
        library_only={"lr_decay": 0.0, "weight_decay": 0.0},
        probes=NO_EPSILON,
    ),
    "Adadelta": Target(
        "Adadelta",
        {"learning_rate": "lr", "rho": "rho", "epsilon": "eps"},
        adjust={"weight_decay": L2_ONLY},
        library_only={"weight_decay": 0.0},
    ),
    "Adamax": Target(
        "Adamax",
        {"learning_rate": "lr", **ADAM_BETAS},
        adjust={"weight_decay": L2_ONLY},
        library_only={"weight_decay": 0.0},
        probes=NO_EPSILON,
    ),
    # momentum_decay is Dozat's (2016) momentum-schedule decay psi = 0.004, torch's default; the
    # Keras Nadam docs cite Dozat and document no such argument.
    "Nadam": Target(
        "NAdam",
        {"learning_rate": "lr", **ADAM_BETAS, "weight_decay": "weight_decay"},
        library_only={"momentum_decay": 0.004, "decoupled_weight_decay": True},
        # torch's schedule 0.96 ** (t * momentum_decay) with momentum_decay=1 is 0.96 ** t
        probes=(Probe(library={"momentum_decay": 1.0}),),
    ),
    "RMSprop": Target(
        "RMSprop",
        {"learning_rate": "lr", "rho": "alpha", "momentum": "momentum", "epsilon": "eps", "centered": "centered"},
        adjust={"weight_decay": L2_ONLY},
        library_only={"weight_decay": 0.0},
        probes=NO_EPSILON,
    ),
    # torch.optim.Adafactor always takes the relative step min(lr, 1/sqrt(t)) and scales it by
    # max(eps[1], RMS(w)); its weight_decay is decoupled (w *= 1 - lr * weight_decay).
    "Adafactor": Target(
        "Adafactor",
        {
            "learning_rate": "lr",
            "beta_2_decay": "beta2_decay",
            "epsilon_1": "eps[0]",
            "epsilon_2": "eps[1]",
            "clip_threshold": "d",
            "weight_decay": "weight_decay",
        },
        adjust={
            "clip_threshold": (lambda hp: max(1.0, hp["clip_threshold"]), "torch requires d >= 1: smaller thresholds are drawn as 1.0"),
            "relative_step": (True, "torch always uses the relative step min(lr, 1/sqrt(t)); Keras's relative_step=False documents lr as given"),
        },
        # Keras adds epsilon_1 to g^2, torch floors the estimate at eps[0]^2: both negligible
        # (and a zero gradient still finite: 0 / sqrt(1e-300), 0 * rsqrt(1e-300)) they coincide.
        # The second probe also leaves out weight decay, which torch applies after measuring
        # RMS(w) for the step size and Keras before.
        probes=(
            Probe({"epsilon_1": 1e-300}, {"eps[0]": 1e-150}),
            Probe({"epsilon_1": 1e-300, "weight_decay": None}, {"eps[0]": 1e-150}),
        ),
    ),
}

# Keras optimizers without a counterpart in torch.optim, and why.
UNMAPPED: dict[str, str] = {
    "Ftrl": "torch.optim has no FTRL optimizer",
    "Lamb": "torch.optim has no LAMB optimizer",
    "Lion": "torch.optim has no Lion optimizer",
    "ScheduleFreeAdamW": "torch.optim has no schedule-free AdamW (it lives in the separate schedulefree package)",
    "Muon": "not mapped: torch.optim.Muon updates only 2-D parameters with its own learning-rate adjustment, "
    "while Keras's Muon also applies AdamW to every other variable",
}


def available() -> bool:
    return importlib.util.find_spec(MODULE) is not None


def constructor(name: str) -> Any:
    import torch

    return getattr(torch.optim, name)


def run(ctor: str, kwargs: dict[str, Any], weights: Sequence[np.ndarray], grads: Sequence[Sequence[np.ndarray]]) -> list[list[np.ndarray]]:
    """The weights after each step of `torch.optim.<ctor>(params, **kwargs)`, in float64 on the CPU."""
    import torch

    params = [torch.tensor(np.asarray(w, np.float64), dtype=torch.float64, requires_grad=True) for w in weights]
    opt = constructor(ctor)(params, **kwargs)
    out = []
    for step in grads:
        for p, g in zip(params, step):
            p.grad = torch.tensor(np.asarray(g, np.float64), dtype=torch.float64)
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out


def code(call: str, weights: Sequence[str]) -> str:
    """Reproducer lines: `call` (the constructor call text without params) stepped on `gradients`;
    leaves the weights in `library_weights`."""
    params = ", ".join(f"torch.tensor({w}, dtype=torch.float64, requires_grad=True)" for w in weights)
    ctor, _, args = call.partition("(")
    return "\n".join([
        "import torch",
        "",
        f"params = [{params}]",
        f"independent = {ctor}(params, {args}",
        "for grads in gradients:",
        "    for p, g in zip(params, grads):",
        "        p.grad = torch.tensor(g, dtype=torch.float64)",
        "    independent.step()",
        "library_weights = [p.detach().numpy() for p in params]",
    ])
