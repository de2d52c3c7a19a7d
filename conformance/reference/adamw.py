"""AdamW (Loshchilov & Hutter 2019): Adam's update; the decoupled weight decay is the shared base
option (see options.py), so only the defaults differ here."""

from __future__ import annotations

from typing import Mapping, Sequence

from conformance.reference import adam, core
from conformance.reference.core import Array, State

# AdamW's own defaults (its weight_decay=0.004 default is a base option, excluded here).
DEFAULTS: dict[str, object] = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}


def init(weights: Sequence[Array], hp: Mapping[str, object]) -> State:
    return adam.init(weights, {**DEFAULTS, **hp})


def update(
    weights: Sequence[Array], grads: Sequence[Array], state: State,
    hp: Mapping[str, object], lr: float, t: int,
) -> tuple[list[Array], State]:
    return adam.update(weights, grads, state, {**DEFAULTS, **hp}, lr, t)


# Bias corrections lose digits as the betas near 1 (core.bias_correction_amplification).
amplification = core.amplifier(DEFAULTS, "beta_1", "beta_2")
