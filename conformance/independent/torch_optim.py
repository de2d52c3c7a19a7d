"""Keras optimizers mapped to `torch.optim` (https://pytorch.org/docs/stable/optim.html).

Each optimizer's mapping is its record's `torch` field (conformance/optimizers/): a `Target`, or
why torch.optim has no counterpart. Here are the pieces those mappings share and the runner.
Every torch argument is named as the torch.optim documentation names it; every Keras
hyperparameter is named as the Keras documentation does. `run` steps the torch optimizer in
float64 on the CPU.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Sequence

import numpy as np

from conformance.independent.mapping import Probe

LABEL = "torch.optim"
DOCS = "https://pytorch.org/docs/stable/optim.html"
MODULE = "torch"
# The field of an optimizer's record (conformance/optimizers/) that holds its torch.optim `Target`,
# or says why it has none.
SPEC_FIELD = "torch"

# torch.optim's weight_decay adds weight_decay * w to the gradient (L2 regularisation), while
# Keras's weight_decay is decoupled (w -= learning_rate * weight_decay * w before the step).
L2_ONLY = (None, "torch's weight_decay here is L2 on the gradient, Keras's is decoupled: not drawn")
ADAM_BETAS = {"beta_1": "betas[0]", "beta_2": "betas[1]", "epsilon": "eps"}
# Where epsilon sits differs between libraries (inside or outside a square root or a max, before
# or after bias correction); with epsilon 0 on both sides that difference vanishes. Keras 2's
# legacy optimizers cannot take epsilon 0 (`epsilon or backend.epsilon()` makes it 1e-7): for
# them a negligible epsilon (held exactly in float64), beside which any second moment that does
# not underflow is large, does the same.
NEGLIGIBLE_EPSILON = Probe({"epsilon": 1e-300})
NO_EPSILON = (Probe({"epsilon": 0.0}), NEGLIGIBLE_EPSILON)
# ...and with weight decay 0 too: isolates a difference in how the decoupled decay is computed.
NO_EPSILON_NO_DECAY = (*NO_EPSILON, Probe({"epsilon": 0.0, "weight_decay": 0.0}))


def available() -> bool:
    return importlib.util.find_spec(MODULE) is not None


def constructor(name: str) -> Any:
    import torch

    return getattr(torch.optim, name)


def run(
    ctor: str, kwargs: dict[str, Any], weights: Sequence[np.ndarray], grads: Sequence[Sequence[np.ndarray]]
) -> list[list[np.ndarray]]:
    """The weights after each step of `torch.optim.<ctor>(params, **kwargs)`, in float64 on the CPU."""
    import torch

    # torch.optim keeps some scalar state in the default dtype, not the parameters' (NAdam's
    # mu_product, the step counts: torch.optim.optimizer._get_scalar_dtype), so float64
    # parameters alone leave NAdam's momentum-schedule product in float32 (1.8e-8 relative at
    # step 1); the default dtype is float64 while it runs.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        params = [torch.tensor(np.asarray(w, np.float64), dtype=torch.float64, requires_grad=True) for w in weights]
        opt = constructor(ctor)(params, **kwargs)
        out = []
        for step in grads:
            for p, g in zip(params, step):
                p.grad = torch.tensor(np.asarray(g, np.float64), dtype=torch.float64)
            opt.step()
            out.append([p.detach().numpy().copy() for p in params])
    finally:
        torch.set_default_dtype(previous)
    return out


def code(call: str, weights: Sequence[str]) -> str:
    """Reproducer lines: `call` (the constructor call text without params) stepped on `gradients`;
    leaves the weights in `library_weights`."""
    params = ", ".join(f"torch.tensor({w}, dtype=torch.float64, requires_grad=True)" for w in weights)
    ctor, _, args = call.partition("(")
    return "\n".join(
        [
            "import torch",
            "",
            "torch.set_default_dtype(torch.float64)  # torch.optim's scalar state (NAdam's mu_product) in float64",
            f"params = [{params}]",
            f"independent = {ctor}(params, {args}",
            "for grads in gradients:",
            "    for p, g in zip(params, grads):",
            "        p.grad = torch.tensor(g, dtype=torch.float64)",
            "    independent.step()",
            "library_weights = [p.detach().numpy() for p in params]",
        ]
    )
