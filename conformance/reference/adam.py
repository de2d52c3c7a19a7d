"""Adam (Kingma & Ba 2014) in the "epsilon hat" form the Keras docstring names; optional AMSGrad."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from conformance.reference import core
from conformance.reference.core import Array

DEFAULTS: dict[str, object] = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}


def _init_one(w: Array, hp: Mapping[str, object]) -> dict[str, Array]:
    slots = {"momentum": np.zeros_like(w), "velocity": np.zeros_like(w)}  # m_0 = v_0 = 0
    if hp["amsgrad"]:
        slots["velocity_hat"] = np.zeros_like(w)  # Reddi et al. 2018, Alg. 2: v_hat_0 = 0
    return slots


def _update_one(w, g, s, hp, lr, t):
    b1, b2, eps = float(hp["beta_1"]), float(hp["beta_2"]), float(hp["epsilon"])
    out = {"momentum": b1 * s["momentum"] + (1 - b1) * g,
           "velocity": b2 * s["velocity"] + (1 - b2) * g * g}
    v = out["velocity"]
    if hp["amsgrad"]:
        # Reddi et al. 2018: use the running maximum of the second moment in place of v_t.
        out["velocity_hat"] = v = np.maximum(s["velocity_hat"], v)
    # Kingma & Ba 2014, end of section 2 (as the Keras docstring's "epsilon hat" specifies):
    # alpha_t = lr * sqrt(1 - b2^t) / (1 - b1^t); w -= alpha_t * m_t / (sqrt(v_t) + eps_hat).
    alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    return w - alpha * out["momentum"] / (np.sqrt(v) + eps), out


# Variables are independent; hyperparameters left out take the documented defaults.
init, update = core.per_variable(_init_one, _update_one, DEFAULTS)


# Bias corrections lose digits as the betas near 1 (core.bias_correction_amplification).
amplification = core.amplifier(DEFAULTS, "beta_1", "beta_2")
