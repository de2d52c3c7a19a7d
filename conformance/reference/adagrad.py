"""Adagrad (Duchi, Hazan & Singer 2011, diagonal form) with Keras's initial accumulator value."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from conformance.reference import core
from conformance.reference.core import Array

DEFAULTS: dict[str, object] = {"initial_accumulator_value": 0.1, "epsilon": 1e-7}


def _init_one(w: Array, hp: Mapping[str, object]) -> dict[str, Array]:
    # Keras docstring: "Starting value for the accumulators".
    return {"accumulator": np.full_like(w, float(hp["initial_accumulator_value"]))}


def _update_one(w, g, s, hp, lr, t):
    acc = s["accumulator"] + g * g  # the sum of squared gradients includes the current one
    # Duchi et al. 2011, diagonal update: x -= eta * g / (delta + sqrt(G)); epsilon plays delta,
    # added to the square root (Keras docs give no formula, so the paper decides).
    return w - lr * g / (np.sqrt(acc) + float(hp["epsilon"])), {"accumulator": acc}


# Variables are independent; hyperparameters left out take the documented defaults.
init, update = core.per_variable(_init_one, _update_one, DEFAULTS)
