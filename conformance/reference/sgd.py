"""SGD with optional (Nesterov) momentum, as written in the Keras `SGD` docstring."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from conformance.reference import core
from conformance.reference.core import Array

DEFAULTS: dict[str, object] = {"momentum": 0.0, "nesterov": False}


def _init_one(w: Array, hp: Mapping[str, object]) -> dict[str, Array]:
    # Keras keeps a velocity (named "momentum") only when momentum != 0.
    return {"momentum": np.zeros_like(w)} if float(hp["momentum"]) != 0 else {}


def _update_one(w, g, s, hp, lr, t):
    mu = float(hp["momentum"])
    if mu == 0:
        return w - lr * g, {}  # docstring: w = w - learning_rate * g
    vel = mu * s["momentum"] - lr * g  # docstring: velocity = momentum * velocity - lr * g
    if hp["nesterov"]:
        return w + mu * vel - lr * g, {"momentum": vel}  # docstring: w + momentum*velocity - lr*g
    return w + vel, {"momentum": vel}


# Variables are independent; hyperparameters left out take the documented defaults.
init, update = core.per_variable(_init_one, _update_one, DEFAULTS)
