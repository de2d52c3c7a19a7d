"""Corner examples: the same few inputs for every claim on every run, whatever the seed.

Ten random examples reach a finding that needs one branch of a strategy (a callable learning
rate, weight decay on, gradient accumulation with EMA) or a value at the end of a range (the
largest learning rate and weight decay together, a beta_1 just above 0) only in some runs, so such
a claim's verdict would depend on --hypothesis-seed. Every claim therefore first runs up to CORNERS
explicit examples (hypothesis's explicit phase; half of the claim's examples, the random ones being
that many fewer), drawn from the claim's own strategies by a provider that makes no random choice:

- corner i makes its choices among alternatives (`one_of`, `sampled_from`, a small integer range)
  with a generator seeded i: fixed, and neighbouring choices (weight decay on, gradient
  accumulation off) are not locked together as a rule such as "branch i mod n" would lock them;
- its floats sit at one place of their range, the same for the whole example, by i mod 4: the
  upper end, the lower end, just above the lower end (a 2**-20 share of the range: beta_1 = 9e-7),
  three quarters of the way up (not the middle, which is 0 for a symmetric range);
- its yes/no choices (an optional hyperparameter present, one more list element) are all no in
  corners 0 and 4 (the defaults, the smallest shapes) and all yes in the others.

Corners 0 to 4 give every built-in optimizer a callable learning rate at least once
(tests/test_corners.py), the case that config and save/load claims fail on.

A corner that fails is reported like any counterexample (without shrinking: it is already made of
range ends); one that a strategy's filter cannot take is skipped. The random examples follow.
"""

from __future__ import annotations

import math
from random import Random
from typing import Any, Callable, TypeVar

from hypothesis import example, note, reject, settings
from hypothesis.strategies import SearchStrategy

from conformance.core import hypothesis_hooks as hooks
from conformance.core.hypothesis_hooks import ConjectureData, PrimitiveProvider

CORNERS = 5  # as many as the learning-rate kinds, the most alternatives of one choice in the suite
NEAR_LOWER = 2.0**-20
SMALL_RANGE = 16  # integer ranges up to this many values are a choice among alternatives

F = TypeVar("F", bound=Callable)


class CornerProvider(PrimitiveProvider):
    """Hypothesis's primitive choices, made by corner `corner`'s rule instead of at random."""

    lifetime = "test_case"

    def __init__(self, conjecturedata: ConjectureData | None, /, corner: int = 0) -> None:
        super().__init__(conjecturedata)
        self.corner = corner
        self.place = ("upper", "lower", "near lower", "three quarters")[corner % 4]
        self.random = Random(corner)

    def draw_boolean(self, p: float = 0.5) -> bool:
        if p <= 0.0 or p >= 1.0:
            return p >= 1.0
        return self.corner % 4 != 0

    def draw_integer(self, min_value: int | None = None, max_value: int | None = None, *,
                     weights: dict[int, float] | None = None, shrink_towards: int = 0) -> int:
        lo = (
            min_value
            if min_value is not None
            else shrink_towards
            if max_value is None
            else min(shrink_towards, max_value)
        )
        if max_value is None:
            return lo
        if max_value - lo < SMALL_RANGE:
            return self._choose(lo, max_value)
        return int(self._place(lo, max_value))

    def _choose(self, lo: int, hi: int) -> int:
        """One of a few alternatives (a `one_of` branch, a `sampled_from` element, a small count)."""
        return self.random.randint(lo, hi)

    def draw_float(
        self,
        *,
        min_value: float = -math.inf,
        max_value: float = math.inf,
        allow_nan: bool = True,
        smallest_nonzero_magnitude: float,
    ) -> float:
        lo = max(min_value, -1.0) if math.isinf(min_value) else min_value
        hi = min(max_value, 1.0) if math.isinf(max_value) else max_value
        x = self._place(lo, hi)
        if 0.0 < abs(x) < smallest_nonzero_magnitude:
            x = math.copysign(smallest_nonzero_magnitude, x)
        return min(max(x, min_value), max_value)

    def draw_string(self, intervals: Any, *, min_size: int = 0, max_size: int = 0) -> str:
        return chr(intervals[0]) * min_size if len(intervals) else ""

    def draw_bytes(self, min_size: int = 0, max_size: int = 0) -> bytes:
        return bytes(min_size)

    def _place(self, lo: float, hi: float) -> float:
        if self.place == "upper":
            return hi
        if self.place == "lower":
            return lo
        if self.place == "near lower":
            return lo + (hi - lo) * NEAR_LOWER
        return lo + (hi - lo) * 0.75


def fixed_draw(strategy: SearchStrategy, provider: type[PrimitiveProvider] = CornerProvider, **provider_kw: Any) -> Any:
    """`strategy`'s value as `provider` (by default corner `corner`'s) draws it, outside any test."""
    cd = hooks.new_data(provider, **provider_kw)
    with hooks.build_context(cd, is_final=False, wrapped_test=None):
        return cd.draw(strategy)


class CornerData:
    """Stands for `st.data()` in corner `corner`: draws the same values on every run (by
    `provider`, corner `corner`'s rule unless another is given)."""

    def __init__(self, corner: int, provider: type[PrimitiveProvider] = CornerProvider, **provider_kw: Any) -> None:
        self.corner = corner
        self._provider = (provider, provider_kw or {"corner": corner})

    def __repr__(self) -> str:
        return f"corner({self.corner})"

    def draw(self, strategy: SearchStrategy, label: Any = None) -> Any:
        provider, kw = self._provider
        case = hooks.case_local(self, lambda: hooks.new_data(provider, **kw))  # a new test case: choices afresh
        try:
            value = case.draw(strategy)
        except hooks.StopTest:  # a filter refused every corner value: this corner does not exist here
            reject()
        note(f"Draw ({label}): {value!r}" if label else f"Draw: {value!r}")
        return value


def with_corners(test: F, count: int | None = None) -> F:
    """`test` (a @given test whose only drawn argument is `data`) with `count` corner examples, by
    default up to half of its examples (CORNERS at most; none below 4), the random ones being that many fewer:
    a claim costs what its profile says."""
    use = hooks.settings_of(test)  # what @given or @settings gave it
    if count is None:
        # A claim of 2 or 3 costly examples keeps them random: corners draw every element of an
        # array alike, and alone they would leave it no unequal gradients at all.
        count = min(CORNERS, use.max_examples // 2) if use.max_examples >= 4 else 0
        hooks.set_settings(test, settings(use, max_examples=use.max_examples - count))
    for i in reversed(range(count)):
        test = example(data=CornerData(i))(test)
    return test
