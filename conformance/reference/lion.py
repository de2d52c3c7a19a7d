"""Lion (Chen et al. 2023, Algorithm 2), without its weight decay term.

The paper's decay, x -= lr*lambda*x_{t-1}, is the base decoupled `weight_decay` option: applying
it first does not change sign(c), which does not depend on x.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from conformance.reference.core import Array, per_variable

DEFAULTS: dict = {"beta_1": 0.9, "beta_2": 0.99}


def _init_one(w: Array, hp: Mapping[str, object]) -> dict[str, Array]:
    return {"momentum": np.zeros_like(w)}


def _update_one(w, g, slots, hp, lr, t):
    hp = {**DEFAULTS, **hp}
    b1, b2 = float(hp["beta_1"]), float(hp["beta_2"])
    m = slots["momentum"]
    # The update interpolates with beta_1 ...
    c = b1 * m + (1.0 - b1) * g
    # ... while the stored momentum tracks the gradient with beta_2.
    return w - lr * np.sign(c), {"momentum": b2 * m + (1.0 - b2) * g}


init, update = per_variable(_init_one, _update_one)
