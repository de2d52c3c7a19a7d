"""Nadam (Dozat 2016, "Incorporating Nesterov Momentum into Adam", Algorithm 2)."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from conformance.reference import core
from conformance.reference.core import Array, State, f64

DEFAULTS: dict[str, object] = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}

# Dozat's momentum schedule mu_t = beta_1 * (1 - 0.5 * 0.96 ** (t * psi)) with psi = 0.004
# (t/250; also Keras 2's schedule_decay default). Keras 3 has no such argument.
SCHEDULE_DECAY = 0.004

# The running product prod_{i<=t} mu_i is optimizer-wide; Keras names that variable "variable".
KERAS_NAMES = {"u_product": "variable"}


def _mu(beta_1: float, t: int) -> float:
    return beta_1 * (1 - 0.5 * 0.96 ** (t * SCHEDULE_DECAY))


def init(weights: Sequence[Array], hp: Mapping[str, object]) -> State:
    slots = [{"momentum": np.zeros_like(f64(w)), "velocity": np.zeros_like(f64(w))} for w in weights]
    return State(slots, {"u_product": f64(1.0)})  # empty product = 1


def update(
    weights: Sequence[Array], grads: Sequence[Array], state: State,
    hp: Mapping[str, object], lr: float, t: int,
) -> tuple[list[Array], State]:
    hp = {**DEFAULTS, **hp}
    b1, b2, eps = float(hp["beta_1"]), float(hp["beta_2"]), float(hp["epsilon"])
    mu_t, mu_next = _mu(b1, t), _mu(b1, t + 1)
    prod = state.shared["u_product"] * mu_t  # prod_{i=1}^{t} mu_i, once per update, not per variable
    prod_next = prod * mu_next  # prod_{i=1}^{t+1} mu_i
    new_w, slots = [], []
    for w, g, s in zip(weights, grads, state.slots):
        w, g = f64(w), f64(g)
        m = b1 * s["momentum"] + (1 - b1) * g
        v = b2 * s["velocity"] + (1 - b2) * g * g
        # Alg. 2: m_bar = (1 - mu_t) * g / (1 - prod_t) + mu_{t+1} * m / (1 - prod_{t+1});
        # w -= lr * m_bar / (sqrt(v / (1 - b2^t)) + eps)   (eps is "epsilon hat" per the docstring)
        m_bar = (1 - mu_t) * g / (1 - prod) + mu_next * m / (1 - prod_next)
        new_w.append(w - lr * m_bar / (np.sqrt(v / (1 - b2**t)) + eps))
        slots.append({"momentum": m, "velocity": v})
    return new_w, State(slots, {"u_product": f64(prod)})


# Bias corrections lose digits as the betas near 1 (core.bias_correction_amplification).
amplification = core.amplifier(DEFAULTS, "beta_1", "beta_2")
