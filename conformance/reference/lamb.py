"""LAMB (You et al. 2019, Algorithm 2) with the identity scaling function phi.

Weight decay is not part of `keras.optimizers.Lamb`'s documented arguments, so the paper's
lambda*x term inside the trust ratio is not modelled; the base `weight_decay` option applies.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from conformance.reference import core
from conformance.reference.core import Array, per_variable

DEFAULTS: dict = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}


def _init_one(w: Array, hp: Mapping[str, object]) -> dict[str, Array]:
    return {"momentum": np.zeros_like(w), "velocity": np.zeros_like(w)}


def _update_one(w, g, slots, hp, lr, t):
    hp = {**DEFAULTS, **hp}
    b1, b2, eps = float(hp["beta_1"]), float(hp["beta_2"]), float(hp["epsilon"])
    m = b1 * slots["momentum"] + (1.0 - b1) * g
    v = b2 * slots["velocity"] + (1.0 - b2) * g * g
    # Adam direction with bias correction and epsilon outside the square root (paper, Alg. 2).
    r = (m / (1.0 - b1**t)) / (np.sqrt(v / (1.0 - b2**t)) + eps)
    # Layer-wise trust ratio ||x|| / ||r||, per variable; 1 when either norm is 0
    # (the paper leaves that case open; this is the convention of the reference implementations).
    w_norm, r_norm = np.linalg.norm(w), np.linalg.norm(r)
    ratio = w_norm / r_norm if w_norm > 0 and r_norm > 0 else 1.0
    return w - lr * ratio * r, {"momentum": m, "velocity": v}


init, update = per_variable(_init_one, _update_one)


# Bias corrections lose digits as the betas near 1 (core.bias_correction_amplification).
amplification = core.amplifier(DEFAULTS, "beta_1", "beta_2")
