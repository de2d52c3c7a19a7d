"""Adadelta (Zeiler 2012, Algorithm 1) with the Keras learning-rate multiplier on the step."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from conformance.reference import core
from conformance.reference.core import Array

DEFAULTS: dict[str, object] = {"rho": 0.95, "epsilon": 1e-7}


def _init_one(w: Array, hp: Mapping[str, object]) -> dict[str, Array]:
    # Zeiler Alg. 1: E[g^2]_0 = 0 and E[dx^2]_0 = 0.
    return {"accumulated_grad": np.zeros_like(w), "accumulated_delta_var": np.zeros_like(w)}


def _update_one(w, g, s, hp, lr, t):
    rho, eps = float(hp["rho"]), float(hp["epsilon"])
    eg2 = rho * s["accumulated_grad"] + (1 - rho) * g * g
    # Zeiler Alg. 1: dx = -RMS[dx]_{t-1} / RMS[g]_t * g, with RMS[y] = sqrt(E[y^2] + eps).
    dx = -np.sqrt(s["accumulated_delta_var"] + eps) / np.sqrt(eg2 + eps) * g
    edx2 = rho * s["accumulated_delta_var"] + (1 - rho) * dx * dx
    # Keras docstring: learning_rate=1.0 is the paper's exact form, so the rate scales only the
    # applied step; the accumulator keeps the paper's unscaled dx.
    return w + lr * dx, {"accumulated_grad": eg2, "accumulated_delta_var": edx2}


# Variables are independent; hyperparameters left out take the documented defaults.
init, update = core.per_variable(_init_one, _update_one, DEFAULTS)
