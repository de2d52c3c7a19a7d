"""Muon (Keller Jordan 2024) with its AdamW fallback, as documented by `keras.optimizers.Muon`.

Path (Keras doc): a variable takes the AdamW step if it is not 2-D, if `exclude_embeddings` and
its name contains "embedding" (case-insensitive), or if any `exclude_layers` regex is found in its
name; every other variable takes the Muon step.
Optional hp key "_names": the variables' Keras paths (e.g. "dense/kernel"), in order; without it
no name-based exclusion is made.

Weight decay: the rule applies `adam_weight_decay` itself to AdamW-path variables (documented as a
Muon argument), as w -= lr_adam * adam_weight_decay * w before the Adam step. The base
`weight_decay` option (default 0.004 for Muon) must be applied by the caller to Muon-path
variables only; `adamw_path` says which those are.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

import numpy as np

from conformance.reference import core
from conformance.reference.core import Array, State, f64

DEFAULTS: dict = {
    "adam_beta_1": 0.9,
    "adam_beta_2": 0.999,
    "adam_weight_decay": 0.004,
    "epsilon": 1e-7,
    "exclude_layers": None,
    "exclude_embeddings": True,
    "muon_a": 3.4445,
    "muon_b": -4.7750,
    "muon_c": 2.0315,
    "adam_lr_ratio": 1,
    "momentum": 0.95,
    "ns_steps": 5,
    "nesterov": True,
    "rms_rate": 0.2,
}


def adamw_path(weights: Sequence[Array], hp: Mapping[str, object]) -> list[bool]:
    """For each variable, whether it takes the AdamW step (True) or the Muon step (False)."""
    hp = {**DEFAULTS, **hp}
    names = hp.get("_names") or [None] * len(weights)
    out = []
    for w, name in zip(weights, names):
        adam = np.ndim(w) != 2
        if name is not None:
            adam = adam or (bool(hp["exclude_embeddings"]) and "embedding" in name.lower())
            adam = adam or any(re.search(k, name) for k in hp["exclude_layers"] or [])
        out.append(adam)
    return out


def weight_decay_mask(weights: Sequence[Array], hp: Mapping[str, object]) -> list[bool]:
    """The base option's decoupled decay applies to Muon-path variables only (Keras docs: the
    AdamW path has its own `adam_weight_decay`)."""
    return [not a for a in adamw_path(weights, hp)]


# The rule's own decoupled decay switched off, for claims that apply every decay themselves.
DECAY_OFF = {"adam_weight_decay": 0.0}


def decay_factors(weights: Sequence[Array], hp: Mapping[str, object], lr: float, weight_decay: float) -> list[float]:
    """What each weight is multiplied by before the step: 1 - lr * weight_decay on the Muon path,
    1 - lr_adam * adam_weight_decay on the AdamW path (the documented Muon arguments)."""
    hp = {**DEFAULTS, **hp}
    adam_decay = hp["adam_weight_decay"]
    lr_adam = lr * float(hp["adam_lr_ratio"])
    return [
        (1.0 - lr_adam * float(adam_decay) if adam_decay is not None else 1.0) if adam else 1.0 - lr * weight_decay
        for adam in adamw_path(weights, hp)
    ]


def newton_schulz(g: Array, a: float, b: float, c: float, steps: int) -> Array:
    """Quintic Newton-Schulz approximation of the orthogonal factor U V^T of g = U S V^T."""
    tall = g.shape[0] > g.shape[1]
    x = g.T if tall else g  # iterate on the wide orientation so X X^T is the small Gram matrix
    x = x / (np.linalg.norm(x) + 1e-7)  # Frobenius normalisation bounds the spectral norm by 1
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


def init(weights: Sequence[Array], hp: Mapping[str, object]) -> State:
    slots = []
    for w, adam in zip(weights, adamw_path(weights, hp)):
        w = f64(w)
        s = {"momentum": np.zeros_like(w)}
        if adam:
            s["velocity"] = np.zeros_like(w)
        slots.append(s)
    return State(slots)


def _muon_step(w, g, s, hp, lr):
    mu = float(hp["momentum"])
    m = mu * s["momentum"] + g  # buf = mu*buf + g (2024 reference implementation)
    u = g + mu * m if hp["nesterov"] else m
    o = newton_schulz(u, float(hp["muon_a"]), float(hp["muon_b"]), float(hp["muon_c"]),
                      int(hp["ns_steps"]))
    if hp["rms_rate"] is not None:
        # Keras doc (Moonlight, Liu et al. 2025): scale by sqrt(max(n, m)) * rms_rate.
        o = o * np.sqrt(max(w.shape)) * float(hp["rms_rate"])
    return w - lr * o, {"momentum": m}


def _adamw_step(w, g, s, hp, lr, t):
    lr = lr * float(hp["adam_lr_ratio"])  # the Adam learning rate
    if hp["adam_weight_decay"] is not None:
        w = w - lr * float(hp["adam_weight_decay"]) * w  # decoupled, before the step
    b1, b2 = float(hp["adam_beta_1"]), float(hp["adam_beta_2"])
    m = b1 * s["momentum"] + (1.0 - b1) * g
    v = b2 * s["velocity"] + (1.0 - b2) * g * g
    # Keras doc: epsilon is Kingma & Ba's "epsilon hat" (bias correction folded into the step).
    alpha = lr * np.sqrt(1.0 - b2**t) / (1.0 - b1**t)
    return w - alpha * m / (np.sqrt(v) + float(hp["epsilon"])), {"momentum": m, "velocity": v}


def update(weights, grads, state: State, hp, lr: float, t: int) -> tuple[list[Array], State]:
    hp = {**DEFAULTS, **hp}
    new_w, new_slots = [], []
    for w, g, s, adam in zip(weights, grads, state.slots, adamw_path(weights, hp)):
        w, g, s = f64(w), f64(g), {k: f64(v) for k, v in s.items()}
        if adam:
            w2, s2 = _adamw_step(w, g, s, hp, float(lr), int(t))
        else:
            w2, s2 = _muon_step(w, g, s, hp, float(lr))
        new_w.append(f64(w2))
        new_slots.append(s2)
    return new_w, State(new_slots, state.copy().shared)


# Bias corrections lose digits as the betas near 1 (core.bias_correction_amplification).
amplification = core.amplifier(DEFAULTS, "adam_beta_1", "adam_beta_2")
