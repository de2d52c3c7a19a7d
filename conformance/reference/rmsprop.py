"""RMSprop (Hinton 2012), centered form (Graves 2013), with optional plain momentum."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from conformance.reference import core
from conformance.reference.core import Array

DEFAULTS: dict[str, object] = {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False}


def _init_one(w: Array, hp: Mapping[str, object]) -> dict[str, Array]:
    # Keras creates "momentum" only when momentum > 0, "average_gradient" only when centered.
    slots = {"velocity": np.zeros_like(w)}
    if float(hp["momentum"]) > 0:
        slots["momentum"] = np.zeros_like(w)
    if hp["centered"]:
        slots["average_gradient"] = np.zeros_like(w)
    return slots


def _update_one(w, g, s, hp, lr, t):
    rho, mu, eps = float(hp["rho"]), float(hp["momentum"]), float(hp["epsilon"])
    out = {"velocity": rho * s["velocity"] + (1 - rho) * g * g}  # moving mean of g^2
    var = out["velocity"]
    if hp["centered"]:
        # Graves 2013 eqs. 38-40: normalise by the variance estimate E[g^2] - E[g]^2, which is
        # >= 0 in exact arithmetic; the clamp only absorbs rounding.
        out["average_gradient"] = rho * s["average_gradient"] + (1 - rho) * g
        var = np.maximum(var - out["average_gradient"] ** 2, 0.0)
    # Keras docstring: epsilon is Kingma & Ba's "epsilon hat", added to the square root.
    step = lr * g / (np.sqrt(var) + eps)
    if mu > 0:
        # Plain (not Nesterov) momentum as in Graves 2013 eq. 41; the slot keeps the accumulated
        # step that is subtracted from w (the sign convention Keras's slot uses).
        out["momentum"] = mu * s["momentum"] + step
        step = out["momentum"]
    return w - step, out


# Variables are independent; hyperparameters left out take the documented defaults.
init, update = core.per_variable(_init_one, _update_one, DEFAULTS)
