"""Hypothesis strategies for variables, gradients and whole cases.

Short aliases as in array-api-tests: `cases(spec)` is what scenarios draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conformance.core import running
from conformance.inputs.catalogue import Setup, Spec

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
    min_vars: int = 1,
) -> Case:
    """A case of `spec`; `configure(draw, setup)` may re-make the setup (the option a claim is about),
    so that the case, its reproducer and its recorded configuration hold what was run. Where the
    draw stands for a fixed example (an anchor, a condition: running.current().fixed), its case
    (two variables: `min_vars` applies to drawn cases only)."""
    rc = running.current()
    fixed = rc.fixed
    if fixed is not None:
        base = fixed.case(spec, dtypes, min_steps, max_steps, max_vars)
        case = Case(configure(draw, base.setup) if configure else base.setup, base.dtype, base.weights, base.grads)
        fixed.checked(case)
    else:
        setup = draw(spec.setups, label="setup")
        if configure is not None:
            setup = configure(draw, setup)
        dtype = draw(st.sampled_from(dtypes), label="dtype")
        var_shapes = draw(st.lists(shapes, min_size=min_vars, max_size=max_vars), label="shapes")
        weights = [draw(array(s, dtype, zeros=False), label=f"weight v{i}") for i, s in enumerate(var_shapes)]
        steps = draw(st.integers(min_steps, max_steps), label="steps")
        grads = [[draw(array(s, dtype)) for s in var_shapes] for _ in range(steps)]
        case = Case(setup, dtype, weights, grads)
    rc.drawn += 1
    rc.case = case
    return case


def checking(case: Case) -> Case:
    """Mark `case`, a variant a claim built from the drawn one, as the case being checked: its
    configuration is what a failure records and what a deviation's `match` reads."""
    running.current().case = case
    return case


def zeros_like(arrays: list[np.ndarray]) -> list[np.ndarray]:
    return [np.zeros_like(a) for a in arrays]


# Significant bits (the implicit one included) of each dtype.
SIGNIFICANT_BITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}


def exact_sum_grid(arrays: list[np.ndarray], dtype: str, most: int) -> list[np.ndarray]:
    """`arrays` rounded to one grid fine enough to keep their digits and coarse enough that a sum
    of up to `most` of them is exact in `dtype`, in any order."""
    top = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
    if top == 0.0:
        return [np.zeros_like(a) for a in arrays]
    bits = SIGNIFICANT_BITS[dtype] - int(np.ceil(np.log2(most))) - 1
    q = 2.0 ** (np.ceil(np.log2(top)) - bits)
    return [np.round(a / q) * q for a in arrays]


def moderate(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Every element of magnitude 1/8 to 1, either sign: no zeros, no element dwarfing another."""
    sign = st.sampled_from([-1.0, 1.0])
    return hnp.arrays(np.float64, shape, elements=st.builds(lambda s, v: s * v, sign, st.floats(0.125, 1.0, width=16)))


@st.composite
def replica_gradients(
    draw: st.DrawFn,
    shapes: list[tuple[int, ...]],
    dtype: str,
    replicas: int,
    steps: int,
    most: int,
    comparable: bool = False,
) -> list:
    """Per step, one gradient list per replica, different on each, whose sum over replicas is exact
    in `dtype` whatever order an all-reduce adds them in (so the order cannot excuse a difference).
    `comparable`: every replica's elements are non-zero and of one magnitude per variable and step,
    so that no replica's gradient is negligible beside another's."""
    out = []
    for t in range(steps):
        by_var = []
        for i, s in enumerate(shapes):
            if running.current().fixed is not None:
                drawn = running.current().fixed.replica_values(s, dtype, replicas, t)
            elif comparable:
                m = draw(st.sampled_from(MAGNITUDES[dtype]), label=f"step {t + 1} v{i} magnitude")
                drawn = [draw(moderate(s), label=f"step {t + 1} replica {r} v{i}") * m for r in range(replicas)]
            else:
                drawn = [draw(array(s, dtype), label=f"step {t + 1} replica {r} v{i}") for r in range(replicas)]
            by_var.append(exact_sum_grid(drawn, dtype, most))
        out.append([[by_var[i][r] for i in range(len(shapes))] for r in range(replicas)])
    return out
