"""Schedule-Free AdamW (Defazio et al. 2024, Algorithm 1) as documented by Keras.

Notation: z is the SGD-like sequence the step is applied to, x the running average (the point to
evaluate), y = (1 - beta_1) z + beta_1 x the point where gradients are taken. As in Keras, the
model variable holds y during training and slot `momentum` holds z; x is implied by
x = (y - (1 - beta_1) z) / beta_1 (so beta_1 must be > 0).

Bias correction follows the authors' repository (v̂ = v / (1 - beta_2^t) inside the square root);
the averaging weight is the paper's c_{t+1} = gamma_t^2 / sum_{i<=t} gamma_i^2, with
gamma_t = lr * min(1, t / warmup_steps). `State.shared["lr_sq_sum"]` holds sum gamma_i^2.
Weight decay is not a documented ScheduleFreeAdamW argument: the base option applies.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from conformance.reference import core
from conformance.reference.core import Array, State, f64

DEFAULTS: dict = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "warmup_steps": 0}


def init(weights: Sequence[Array], hp: Mapping[str, object]) -> State:
    # z_1 = x_1 = the initial weights; v_0 = 0.
    slots = [{"momentum": f64(w).copy(), "velocity": np.zeros_like(f64(w))} for w in weights]
    return State(slots, {"lr_sq_sum": f64(0.0)})


def update(weights, grads, state: State, hp, lr: float, t: int) -> tuple[list[Array], State]:
    hp = {**DEFAULTS, **hp}
    b1, b2, eps = float(hp["beta_1"]), float(hp["beta_2"]), float(hp["epsilon"])
    warmup = int(hp["warmup_steps"])
    # Keras doc: during warmup the learning rate increases linearly to its value.
    gamma = float(lr) * (min(1.0, t / warmup) if warmup > 0 else 1.0)
    lr_sq_sum = float(state.shared.get("lr_sq_sum", 0.0)) + gamma**2
    c = gamma**2 / lr_sq_sum if lr_sq_sum > 0 else 0.0  # c_{t+1}; 1/t for a constant gamma
    new_w, new_slots = [], []
    for y, g, s in zip(weights, grads, state.slots):
        y, g, z = f64(y), f64(g), f64(s["momentum"])
        with np.errstate(divide="ignore", invalid="ignore"):
            x = (y - (1.0 - b1) * z) / b1  # beta_1 = 0 leaves x unrecoverable: NaN, not a warning
        v = b2 * f64(s["velocity"]) + (1.0 - b2) * g * g
        z = z - gamma * g / (np.sqrt(v / (1.0 - b2**t)) + eps)
        x = (1.0 - c) * x + c * z
        new_w.append((1.0 - b1) * z + b1 * x)  # y_{t+1}, where the next gradient is taken
        new_slots.append({"momentum": z, "velocity": v})
    return new_w, State(new_slots, {"lr_sq_sum": f64(lr_sq_sum)})


def average(weights: Sequence[Array], state: State, hp: Mapping[str, object]) -> list[Array]:
    """The evaluation point x, recovered from the model variables (y) and z."""
    b1 = float({**DEFAULTS, **hp}["beta_1"])
    return [(f64(y) - (1.0 - b1) * s["momentum"]) / b1 for y, s in zip(weights, state.slots)]


# Bias corrections lose digits as the betas near 1 (core.bias_correction_amplification).
amplification = core.amplifier(DEFAULTS, "beta_1", "beta_2")
