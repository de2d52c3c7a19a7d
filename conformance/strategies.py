"""Hypothesis strategies for variables, gradients and whole cases.

Short aliases as in array-api-tests: `cases(spec)` is what scenarios draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .catalogue import Setup, Spec

FLOAT32 = ("float32",)
FLOAT64 = ("float64",)
LOW_PRECISION = ("float16", "bfloat16")

# Magnitudes a gradient or weight may take in each dtype: tiny and large, but such that squares
# and sums of a few squares stay finite and normal (non-finite input is its own claim).
MAGNITUDES = {
    "float16": (1e-2, 1.0, 1e2),
    "bfloat16": (1e-4, 1.0, 1e4),
    "float32": (1e-6, 1e-3, 1.0, 1e3, 1e6),
    "float64": (1e-8, 1e-3, 1.0, 1e3, 1e8),
}

# Cases drawn so far in this process: the plugin records how many inputs each claim saw.
DRAWN = [0]
# The case drawn last: after a failure, hypothesis's final replay leaves the minimal one here.
LAST: list = [None]

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)


def array(shape: tuple[int, ...], dtype: str, zeros: bool = True) -> st.SearchStrategy[np.ndarray]:
    """Values in [-1, 1] times one magnitude typical of the dtype; sometimes all zeros."""
    values = st.builds(
        lambda a, m: a * m,
        hnp.arrays(np.float64, shape, elements=st.floats(-1.0, 1.0, width=16)),
        st.sampled_from(MAGNITUDES[dtype]),
    )
    return st.one_of(values, st.just(np.zeros(shape))) if zeros else values


@dataclass
class Case:
    """One drawn input: a configuration, a dtype, initial weights and a gradient per step."""

    setup: Setup
    dtype: str
    weights: list[np.ndarray]
    grads: list[list[np.ndarray]]

    def __repr__(self) -> str:
        return (
            f"Case({self.setup.code}, dtype={self.dtype!r}, shapes={[w.shape for w in self.weights]}, "
            f"steps={len(self.grads)})"
        )


@st.composite
def cases(
    draw: st.DrawFn,
    spec: Spec,
    dtypes: tuple[str, ...] = FLOAT32,
    min_steps: int = 1,
    max_steps: int = 4,
    max_vars: int = 3,
    configure: Callable[[st.DrawFn, Setup], Setup] | None = None,
) -> Case:
    """A case of `spec`; `configure(draw, setup)` may re-make the setup (the option a claim is about),
    so that the case, its reproducer and its recorded configuration hold what was run."""
    setup = draw(spec.setups, label="setup")
    if configure is not None:
        setup = configure(draw, setup)
    dtype = draw(st.sampled_from(dtypes), label="dtype")
    var_shapes = draw(st.lists(shapes, min_size=1, max_size=max_vars), label="shapes")
    weights = [draw(array(s, dtype, zeros=False), label=f"weight v{i}") for i, s in enumerate(var_shapes)]
    steps = draw(st.integers(min_steps, max_steps), label="steps")
    grads = [[draw(array(s, dtype)) for s in var_shapes] for _ in range(steps)]
    case = Case(setup, dtype, weights, grads)
    DRAWN[0] += 1
    LAST[0] = case
    return case


def zeros_like(arrays: list[np.ndarray]) -> list[np.ndarray]:
    return [np.zeros_like(a) for a in arrays]
