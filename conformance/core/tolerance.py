"""The one place where comparison tolerances are defined.

A reference step is compared elementwise against Keras after Keras's own state and weights are fed
into the float64 reference (teacher forcing), so rounding does not compound across steps. Each
element of an update is a short chain of floating-point operations in the variable's dtype; a chain
of about `OPS_PER_STEP` roundings of at most eps/2 each bounds the relative error per step.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

# Roundings in one element's update chain (moments, square root, division, bias correction,
# learning-rate scaling), with a margin for operations Keras fuses differently.
OPS_PER_STEP = 16


def eps(dtype: str) -> float:
    """Machine epsilon of a Keras dtype name, bfloat16 included."""
    if dtype == "bfloat16":
        return 2.0**-7
    return float(np.finfo(np.dtype(dtype)).eps)


def rtol(dtype: str, steps: int = 1, amplification: float = 1.0) -> float:
    """Relative tolerance after `steps` teacher-forced steps: errors add, at most linearly.

    `amplification` is the rule's own loss of digits (e.g. bias corrections near beta = 1).
    """
    return OPS_PER_STEP * eps(dtype) * max(1, steps) * amplification


# Each input of a step (a hyperparameter, the weights, the gradient, a state slot) is perturbed by
# this many roundings of the dtype to measure how much the documented formula itself amplifies
# the dtype's precision (its conditioning), see trajectory._sensitivity.
INPUT_ROUNDINGS = 8


def input_perturbation(dtype: str) -> float:
    return INPUT_ROUNDINGS * eps(dtype)


def floor(dtype: str) -> float:
    """The absolute error floor near zero: the smallest normal number of the dtype.

    Below it values are subnormal, which CPUs may flush to zero (TensorFlow sets flush-to-zero),
    so a state of 1e-39 in float32 may read 0.0 without any fault in the algorithm.
    """
    if dtype == "bfloat16":
        return 2.0**-126
    return float(np.finfo(np.dtype(dtype)).tiny)


def bound(ref: np.ndarray, prev: np.ndarray, dtype: str, steps: int = 1, amplification: float = 1.0) -> np.ndarray:
    """Elementwise allowed |actual - ref|.

    Scaled by the magnitude of the result, of the value before the step and of the change, so
    that cancellation (a result near zero computed from large terms) is allowed for, while an
    update that is wrong by more than a few roundings of its own size is not.
    """
    ref = np.asarray(ref, np.float64)
    prev = np.broadcast_to(np.asarray(prev, np.float64), ref.shape)
    scale = np.abs(ref) + np.abs(prev) + np.abs(ref - prev)
    return rtol(dtype, steps, amplification) * scale + floor(dtype)


def moving_average_amplification(decays: Iterable[float]) -> float:
    """How much an exponential moving average computed as m + (g - m) * (1 - beta) (Keras's and
    torch's form) amplifies rounding when the new input g is small beside m: the result beta * m
    carries the rounding of m, eps * |m|, which is eps / beta relative to the result.

    Teacher-forced comparisons absorb this into the state's own tolerance (scaled by the value
    before the step); a free-running comparison of the weights alone meets it in the weights.
    """
    return max([1.0] + [1.0 / b for b in decays if 0.0 < b < 1.0])
