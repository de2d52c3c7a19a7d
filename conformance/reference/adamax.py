"""Adamax (Kingma & Ba 2014, section 7.1), with the epsilon the Keras docstring adds to u."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from conformance.reference import core
from conformance.reference.core import Array

DEFAULTS: dict[str, object] = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}


def _init_one(w: Array, hp: Mapping[str, object]) -> dict[str, Array]:
    return {"momentum": np.zeros_like(w), "norm": np.zeros_like(w)}  # docstring: m = 0, u = 0


def _update_one(w, g, s, hp, lr, t):
    b1, b2, eps = float(hp["beta_1"]), float(hp["beta_2"]), float(hp["epsilon"])
    # Keras docstring (paper Alg. 2 plus epsilon): m = b1*m + (1-b1)*g; u = max(b2*u, |g|);
    # w -= lr / (1 - b1^t) * m / (u + epsilon).
    m = b1 * s["momentum"] + (1 - b1) * g
    u = np.maximum(b2 * s["norm"], np.abs(g))
    return w - lr / (1 - b1**t) * m / (u + eps), {"momentum": m, "norm": u}


# Variables are independent; hyperparameters left out take the documented defaults.
init, update = core.per_variable(_init_one, _update_one, DEFAULTS)


# Bias corrections lose digits as the betas near 1 (core.bias_correction_amplification).
amplification = core.amplifier(DEFAULTS, "beta_1")
