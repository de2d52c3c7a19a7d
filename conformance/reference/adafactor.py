"""Adafactor (Shazeer & Stern 2018, Algorithms 4 and 5), as `keras.optimizers.Adafactor` documents.

No first moment (beta_1 = 0), update clipping with d = clip_threshold, relative step and parameter
scaling. Variables with >= 2 dims factor the second moment over their last two dims (row factor
`r`, column factor `c`); `velocity` holds V (the full second moment for < 2 dims, the rebuilt
estimate R C / mean(R) for >= 2 dims).

Optional hp key "_lr_schedule" (bool, default False): True when the Keras learning rate is a
schedule/callable, in which case the docs say the relative-step decay is not applied.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from conformance.reference.core import Array, per_variable

DEFAULTS: dict = {
    "beta_2_decay": -0.8,
    "epsilon_1": 1e-30,
    "epsilon_2": 1e-3,
    "clip_threshold": 1.0,
    "relative_step": True,
}
# Keras names both factors exactly like the weight, the row factor first.
KERAS_NAMES = {"r": "", "c": ""}


def _rms(x: Array) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def _init_one(w: Array, hp: Mapping[str, object]) -> dict[str, Array]:
    if w.ndim < 2:
        return {"velocity": np.zeros_like(w)}
    return {
        "r": np.zeros(w.shape[:-1]),
        "c": np.zeros(w.shape[:-2] + w.shape[-1:]),
        "velocity": np.zeros_like(w),
    }


def _update_one(w, g, slots, hp, lr, t):
    hp = {**DEFAULTS, **hp}
    # Keras doc: with a constant learning rate and relative_step=True the step is adjusted by the
    # iteration: rho_t = min(learning_rate, 1/sqrt(t)) (the paper's min(1e-2, 1/sqrt(t))).
    rho = lr
    if hp["relative_step"] and not hp.get("_lr_schedule", False):
        rho = min(lr, 1.0 / np.sqrt(t))
    # Parameter scaling: alpha_t = max(epsilon_2, RMS(X_{t-1})) * rho_t.
    alpha = max(float(hp["epsilon_2"]), _rms(w)) * rho
    beta2t = 1.0 - float(t) ** float(hp["beta_2_decay"])  # beta2_hat_t = 1 - t^-0.8
    g2 = g * g + float(hp["epsilon_1"])
    new = {}
    if w.ndim >= 2:
        # Row/column means (the authors' tensor2tensor form); the paper's sums differ only by the
        # constant factors n, m, which cancel in V = R C / mean(R).
        r = beta2t * slots["r"] + (1.0 - beta2t) * g2.mean(axis=-1)
        c = beta2t * slots["c"] + (1.0 - beta2t) * g2.mean(axis=-2)
        v = (r / r.mean(axis=-1, keepdims=True))[..., :, None] * c[..., None, :]
        new.update(r=r, c=c)
    else:
        v = beta2t * slots["velocity"] + (1.0 - beta2t) * g2
    u = g / np.sqrt(v)
    u = u / max(1.0, _rms(u) / float(hp["clip_threshold"]))  # update clipping
    new["velocity"] = v
    return w - alpha * u, new


init, update = per_variable(_init_one, _update_one)
