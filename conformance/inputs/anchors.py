"""Anchors: a few fixed cases per optimizer, checked on every run whatever the seed.

Corners fix the draws but not what a finding hinges on. An update rule's findings hinge on one
hyperparameter near an end of its range (Adagrad's epsilon inside the square root shows only for a
large epsilon, Ftrl's doubled l2 only with l2 > 0, Adam's first-moment cancellation for beta_1 just
above 0, SGD builds state only with momentum > 0) or on a pattern in the data (Adafactor's factored
second moment turns NaN for one small gradient element in an otherwise zero matrix). Random
examples reach them in some runs only, so the claims about the update rule check these cases
first, as explicit examples:

- configurations: every hyperparameter at the top of its drawn range together, the defaults, each
  hyperparameter alone at the top and alone just above the bottom (the values come from the spec's
  own strategies, drawn by a provider that takes one end of every range, every optional argument
  and the last of every set of alternatives); a constant learning rate at the top of its range,
  default base options. A spec of one configuration (a factory, a fixed spec) keeps it;
- data, on a (3, 3) and a (3,) variable: `spread` (weights across [-1, 1], gradients of unequal
  elements at the dtype's middle, smallest and largest magnitude in turn, the matrix's last row
  and column zero) for every configuration;
  for the defaults also `sparse` (zero weights, one gradient element of half the dtype's smallest
  magnitude in a zero matrix, then zero gradients) and `ladder` (gradient elements from the
  smallest magnitude down past float16's smallest subnormal, a factor 4 a rung, then zeros).

Claims too costly for corners (claims.claim) check the first two anchors ("every hyperparameter at
the top of its range" and "defaults", on spread data) besides their drawn examples; in them,
replicated claims give each replica its own multiple of one gradient (`replica_values`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import numpy as np
from hypothesis import example, note, reject
from hypothesis.strategies import SearchStrategy

from conformance.core import running
from conformance.core.hypothesis_hooks import ConjectureData
from conformance.inputs import strategies
from conformance.inputs.catalogue import Setup, Spec
from conformance.inputs.corners import CornerData, CornerProvider, fixed_draw
from conformance.inputs.hyperparameters import lr_values
from conformance.inputs.learning_rates import LearningRate

F = TypeVar("F", bound=Callable)

MOST = 40  # explicit anchor examples a claim gets; a spec with fewer anchors skips the rest
COSTLY = 1  # those a claim too costly for corners gets: every hyperparameter at the top (the defaults are a condition)
SHAPES = ((3, 3), (3,))


class EndProvider(CornerProvider):
    """Every choice at one end of its range. `top`: upper ends, every optional part, the last
    alternative; `near bottom`: just above the lower ends (a 2**-20 share of the range), every
    optional part, the last alternative (a range rather than the `just(0.0)` beside it);
    `bottom`: lower ends, nothing optional, the first alternative (the defaults)."""

    # mode -> (where floats sit, optional parts present, the last alternative)
    MODES = {"top": ("upper", True, True), "near bottom": ("near lower", True, True), "bottom": ("lower", False, False)}

    def __init__(self, conjecturedata: ConjectureData | None, /, mode: str = "top") -> None:
        super().__init__(conjecturedata, corner=0)
        self.place, self.present, self.last = self.MODES[mode]

    def draw_boolean(self, p: float = 0.5) -> bool:
        return p >= 1.0 if p <= 0.0 or p >= 1.0 else self.present

    def _choose(self, lo: int, hi: int) -> int:
        return hi if self.last else lo


def at_end(strategy: SearchStrategy, mode: str) -> Any:
    """`strategy`'s value with every choice at one end (EndProvider's `mode`)."""
    return fixed_draw(strategy, EndProvider, mode=mode)


def _data(pattern: str, dtype: str, steps: int) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    small, *_, large = strategies.MAGNITUDES[dtype]
    if pattern == "sparse":  # then zero-gradient steps
        def lone(shape: tuple[int, ...], t: int) -> np.ndarray:
            g = np.zeros(shape)
            g[(0,) * len(shape)] = small / 2 if t == 0 else 0.0  # its square is subnormal in float16
            return g

        return [np.zeros(s) for s in SHAPES], [[lone(s, t) for s in SHAPES] for t in range(steps)]
    ramp = [np.linspace(-1.0, 1.0, int(np.prod(s))).reshape(s) for s in SHAPES]
    if pattern == "ladder":  # elements from the smallest magnitude down by 2**-2 a rung, signs alternating
        rungs = [small * (-0.25) ** np.arange(k, k + int(np.prod(s))).reshape(s) for k, s in zip((0, 9), SHAPES)]
        return ramp, [[r * (-1) ** t for r in rungs] if t < 2 else [np.zeros(s) for s in SHAPES] for t in range(steps)]
    magnitudes = (1.0, small, large)
    grads = [
        [_blank_last_row_and_column(np.roll(r, t + 1)) * magnitudes[t % 3] * (-1) ** t for r in ramp]
        for t in range(steps)
    ]
    return ramp, grads


def _blank_last_row_and_column(g: np.ndarray) -> np.ndarray:
    """`g` with its last row and column zero where it is a matrix: a factored second moment
    (Adafactor's) then has rows and columns that only epsilon feeds."""
    if g.ndim >= 2:
        g = g.copy()
        g[..., -1, :] = 0.0
        g[..., :, -1] = 0.0
    return g


@dataclass(frozen=True)
class Anchor:
    name: str
    setup: Setup
    dtype: str
    pattern: str

    def case(self, steps: int, max_vars: int) -> strategies.Case:
        weights, grads = _data(self.pattern, self.dtype, steps)
        return strategies.Case(self.setup, self.dtype, weights[:max_vars], [g[:max_vars] for g in grads])


def configurations(spec: Spec) -> list[tuple[str, Setup]]:
    """Named setups: every hyperparameter at the top together, the defaults, then each hyperparameter
    alone at the top and alone just above the bottom of its range."""
    bottom, top_setup = at_end(spec.setups, "bottom"), at_end(spec.setups, "top")
    if bottom.code == top_setup.code or bottom.variant is None:
        return [("as configured", bottom)]  # a spec of one configuration (a factory, a fixed spec) keeps it
    base = bottom.vary(lr=LearningRate("constant", {"value": at_end(lr_values, "top")}))
    if spec.kind == "wrapper":  # its hyperparameters are some inner optimizer's
        return [("defaults", base)]
    top = top_setup.hp
    out = [("every hyperparameter at the top of its range", base.vary(hp=top))] if len(top) > 1 else []
    out.append(("defaults", base))
    for end in (top, at_end(spec.setups, "near bottom").hp):
        out += [(f"{k}={v!r} alone", base.vary(hp={k: v})) for k, v in end.items()]
    seen: set[str] = set()
    return [(name, s) for name, s in out if not (s.code in seen or seen.add(s.code))]


_CACHE: dict[tuple[str, tuple[str, ...]], list[Anchor]] = {}


def anchors(spec: Spec, dtypes: tuple[str, ...]) -> list[Anchor]:
    """The anchors of `spec` in `dtypes`: each configuration on `spread` data, the defaults on
    `sparse` and `ladder` too."""
    key = (spec.name, dtypes)
    if key not in _CACHE:
        out = []
        for dtype in dtypes:
            for name, setup in configurations(spec):
                out.append(Anchor(name, setup, dtype, "spread"))
                if name in ("defaults", "as configured"):
                    out += [Anchor(name, setup, dtype, "sparse"), Anchor(name, setup, dtype, "ladder")]
        _CACHE[key] = out
    return _CACHE[key]


def steps_between(min_steps: int, max_steps: int) -> int:
    """Three steps (one per gradient magnitude) where the claim allows them."""
    return max(min_steps, min(max_steps, 3))


class FixedData(CornerData):
    """Stands for `st.data()` in a fixed example (an anchor, a condition): while it draws,
    `strategies.cases` gives `self.case(...)` instead of drawing one, and replicated gradients are
    `self.replica_values(...)`; any other draw is made by the provider's fixed rule."""

    def draw(self, strategy: SearchStrategy, label: Any = None) -> Any:
        rc = running.current()
        previous, rc.fixed = rc.fixed, self
        try:
            return super().draw(strategy, label)
        finally:
            rc.fixed = previous

    def case(
        self, spec: Spec, dtypes: tuple[str, ...], min_steps: int, max_steps: int, max_vars: int
    ) -> strategies.Case:
        raise NotImplementedError

    def checked(self, case: strategies.Case) -> None:
        """Called with the case once the claim has configured it (its own option added)."""

    def replica_values(self, shape: tuple[int, ...], dtype: str, replicas: int, t: int) -> list[np.ndarray]:
        """One variable's gradients at step `t` on each replica: replica r gets r + 1 times a ramp of
        non-zero elements at the dtype's middle magnitude, so that no two replicas agree and none is
        negligible beside another (a replica-local accumulator or clipping shows)."""
        mags = strategies.MAGNITUDES[dtype]
        n = int(np.prod(shape))
        ramp = np.roll(np.linspace(0.125, 1.0, n) * (-1.0) ** np.arange(n), t).reshape(shape) * mags[len(mags) // 2]
        return [ramp * (r + 1) / replicas for r in range(replicas)]


class AnchorData(FixedData):
    """Stands for `st.data()` in anchor `index`; any other draw is corner 0's."""

    def __init__(self, index: int) -> None:
        super().__init__(0)
        self.index = index

    def __repr__(self) -> str:
        return f"anchor({self.index})"

    def case(
        self, spec: Spec, dtypes: tuple[str, ...], min_steps: int, max_steps: int, max_vars: int
    ) -> strategies.Case:
        found = anchors(spec, dtypes)
        if self.index >= len(found):  # this spec has fewer anchors: the example does not exist here
            reject()
        p = found[self.index]
        note(f"anchor {self.index}: {p.name}, {p.dtype}, {p.pattern} data")
        return p.case(steps_between(min_steps, max_steps), max_vars)


def with_anchors(test: F, count: int = MOST) -> F:
    """`test` (a @given test whose only drawn argument is `data`) checking its first `count`
    anchors as explicit examples, before its corners and random examples."""
    for i in reversed(range(count)):
        test = example(data=AnchorData(i))(test)
    return test
