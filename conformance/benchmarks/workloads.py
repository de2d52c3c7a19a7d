"""The regimes a step is timed in: the weights, and the gradients (drawn once, seeded)."""

from __future__ import annotations

import numpy as np

# One large variable (bandwidth-bound), and many small ones (per-variable overhead).
REGIMES: dict[str, tuple[tuple[int, ...], ...]] = {
    "large": ((2048, 2048),),  # 4,194,304 float32 values: 16 MiB per array
    "many_small": ((1000,),) * 200,
}


def arrays(regime: str, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape, dtype=np.float32) for shape in REGIMES[regime]]


def weights(regime: str) -> list[np.ndarray]:
    return arrays(regime, 0)


def gradients(regime: str) -> list[np.ndarray]:
    """Small gradients, so that hundreds of steps keep the weights and state finite."""
    return [g * np.float32(1e-3) for g in arrays(regime, 1)]
