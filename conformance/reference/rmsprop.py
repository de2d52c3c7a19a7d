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


# Roundings in v_new and m_new**2 (a product, a sum and a square each), relative to v_new.
CANCEL_ROUNDINGS = 6


def rounding_slack(weights, grads, state, hp: Mapping[str, object], lr: float, eps: float):
    """Error a faithful centered RMSprop makes in var = v - m**2 where the gradient barely varies
    (rho near 0, or a steady gradient: v ~ g**2, m ~ g): the roundings of v and m**2, about
    CANCEL_ROUNDINGS * eps * v, are then a large part of var, and the step's denominator moves
    with them. Both denominators count: Keras's sqrt(var + epsilon), the documented sqrt(var) + epsilon."""
    hp = {**DEFAULTS, **hp}
    w_slack, slot_slack = [], []
    for w, g, s in zip(weights, grads, state.slots):
        if not hp["centered"]:
            w_slack.append(np.zeros(np.shape(w)))
            slot_slack.append({})
            continue
        rho, e = float(hp["rho"]), float(hp["epsilon"])
        v = rho * s["velocity"] + (1 - rho) * g * g
        var = np.maximum(v - (rho * s["average_gradient"] + (1 - rho) * g) ** 2, 0.0)
        delta = CANCEL_ROUNDINGS * eps * v
        err = np.maximum(
            np.abs(lr * g) * np.abs(1 / np.sqrt(var + e) - 1 / np.sqrt(var + delta + e)),
            np.abs(lr * g) * np.abs(1 / (np.sqrt(var) + e) - 1 / (np.sqrt(var + delta) + e)),
        )
        w_slack.append(err)
        slot_slack.append({"momentum": err} if float(hp["momentum"]) > 0 else {})
    return w_slack, slot_slack
