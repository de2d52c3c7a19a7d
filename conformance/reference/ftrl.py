"""FTRL-Proximal (McMahan et al. 2013, Algorithm 1) as documented by `keras.optimizers.Ftrl`.

Slots: `accumulator` (n, the sum of squared gradients) and `linear` (z). The model variable holds
w computed from (z, n) after each update, so the stored w is the paper's w_{t+1}.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from conformance.reference.core import Array, per_variable

DEFAULTS: dict = {
    "learning_rate_power": -0.5,
    "initial_accumulator_value": 0.1,
    "l1_regularization_strength": 0.0,
    "l2_regularization_strength": 0.0,
    "l2_shrinkage_regularization_strength": 0.0,
    "beta": 0.0,
}


def _init_one(w: Array, hp: Mapping[str, object]) -> dict[str, Array]:
    hp = {**DEFAULTS, **hp}
    # Keras doc: "initial_accumulator_value: The starting value for accumulators"; z starts at 0.
    return {
        "accumulator": np.full_like(w, float(hp["initial_accumulator_value"])),
        "linear": np.zeros_like(w),
    }


def _update_one(w, g, slots, hp, lr, t):
    hp = {**DEFAULTS, **hp}
    p = -float(hp["learning_rate_power"])  # n**p; the paper's sqrt(n) is p = 0.5 (the default)
    l1 = float(hp["l1_regularization_strength"])
    l2 = float(hp["l2_regularization_strength"])
    shrink = float(hp["l2_shrinkage_regularization_strength"])
    beta = float(hp["beta"])

    n_old = slots["accumulator"]
    # n accumulates the raw gradient; only z sees the shrinkage gradient
    # (TF ApplyFtrlV2 doc: grad_with_shrinkage = grad + 2 * l2_shrinkage * var).
    n = n_old + g * g
    g_shrunk = g + 2.0 * shrink * w
    sigma = (n**p - n_old**p) / lr  # Keras doc: sigma = (n**-lr_power - prev_n**-lr_power) / lr
    z = slots["linear"] + g_shrunk - sigma * w
    # Keras doc / paper: w = 0 if |z| <= l1 else (sgn(z)*l1 - z) / ((beta + sqrt(n))/alpha + l2).
    denom = (beta + n**p) / lr + l2
    w_new = np.where(np.abs(z) <= l1, 0.0, (np.sign(z) * l1 - z) / denom)
    return w_new, {"accumulator": n, "linear": z}


init, update = per_variable(_init_one, _update_one)


# Roundings of a float32 `pow` in the libraries the backends use (not correctly rounded).
POW_ROUNDINGS = 4


def rounding_slack(weights, grads, state, hp: Mapping[str, object], lr: float, eps: float):
    """Error a faithful implementation makes when n + g**2 and n**p are rounded to the working dtype.

    For a gradient much smaller than sqrt(n) the increment g**2 is lost in n_new, and with it
    sigma = (n_new**p - n**p) / lr, a difference of nearly equal powers: the error of sigma * w
    is about 2 p eps n_new**p / lr * |w| in z, and that over the denominator in w. Each power is
    itself rounded: a square root exactly (half a rounding), a general `pow` to a few roundings,
    differently in each math library, which the same difference turns into an error of z.
    """
    hp = {**DEFAULTS, **hp}
    p = -float(hp["learning_rate_power"])
    powers = 2 * (0.5 if p == 0.5 else POW_ROUNDINGS)
    w_slack, slot_slack = [], []
    for w, g, s in zip(weights, grads, state.slots):
        n = s["accumulator"] + g * g
        z_err = (2.0 * p + powers) * eps * n**p / lr * np.abs(w)
        denom = (float(hp["beta"]) + n**p) / lr + float(hp["l2_regularization_strength"])
        w_slack.append(z_err / denom)
        slot_slack.append({"linear": z_err})
    return w_slack, slot_slack
