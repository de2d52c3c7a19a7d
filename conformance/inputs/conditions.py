"""Conditions: the circumstances a verdict is about, each checked and judged on its own.

One verdict per (optimizer, claim) merged every configuration a claim tried, so the cell said the
same for "Adam() changes the weights" and "Adam(weight_decay=0.1) changes the weights". A claim now
checks, in this order, where it can express them:

- `defaults`: the optimizer as a user constructs it, with no arguments (the class's own defaults,
  read from an instance), on fixed data (anchors' `spread`), in the claim's first dtype (float32
  unless the claim is about another);
- each base option alone on top of the defaults, at a value where its effect is largest
  (`ALONE`), a learning-rate schedule, and a LossScaleOptimizer around it;
- the other dtypes the claim draws (`float16`, `bfloat16`, `float64`), at defaults;
- `drawn`: hypothesis's anchors, corners and random configurations, with its minimal
  counterexample, as before.

The fixed conditions call the scenario's own body with a `ConditionData` standing for `st.data()`,
so a claim needs no code of its own for them. A condition whose configured optimizer (after the
claim added its own option) is one already checked is not expressible and left out (a clipping
claim replaces the options, so `weight_decay` alone would check the defaults again). Where the
defaults are `unsupported` (the API lacks what the claim needs), the other fixed conditions are
not tried. Claims too costly for corners check `defaults` and `drawn` only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any, Callable

from conformance.core import hypothesis_hooks as hooks
from conformance.core import running
from conformance.core.errors import Unsupported
from conformance.core.running import NotExpressible
from conformance.inputs import strategies
from conformance.inputs.anchors import Anchor, EndProvider, FixedData, steps_between
from conformance.inputs.catalogue import Setup, Spec, loss_scaled
from conformance.inputs.learning_rates import LearningRate
from conformance.inputs.options import Options

# Each base option alone, where its effect is largest: drawn together, gradient accumulation
# hides weight decay on a first step, and only some seeds draw weight decay without it.
ALONE: dict[str, Options] = {
    "weight_decay": Options(weight_decay=0.1),
    "clipnorm": Options(clipnorm=0.01),
    "clipvalue": Options(clipvalue=0.01),
    "global_clipnorm": Options(global_clipnorm=0.01),
    "use_ema": Options(use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=1),
    "gradient_accumulation_steps": Options(gradient_accumulation_steps=2),
}
DTYPES = ("float16", "bfloat16", "float64")
NAMES = ("defaults", *ALONE, "learning_rate_schedule", "loss_scale", *DTYPES, "drawn")
FIXED = NAMES[:-1]
DEFAULTS_ONLY = ("defaults",)  # for claims whose every example is costly


@dataclass(frozen=True)
class Condition:
    name: str
    text: str
    change: Callable[[Setup], Setup] = lambda s: s  # the defaults' setup -> this condition's
    dtype: str | None = None  # a dtype class; None: the claim's first dtype

    def setup(self, spec: Spec) -> Setup:
        return self.change(spec.default_setup())


def _option(name: str) -> Condition:
    opts = ALONE[name]
    words = ", ".join(f"{k}={v!r}" for k, v in opts.kwargs().items())
    return Condition(name, f"the defaults with {words}",
                     lambda s: s.vary(opts=replace(s.opts, **{k: getattr(opts, k) for k in opts.kwargs()})))


def _schedule(s: Setup) -> Setup:
    # The class's own initial rate, halved at every step: the rate read at each step shows.
    return s.vary(lr=LearningRate("ExponentialDecay", {"initial_learning_rate": s.lr.value(0), "decay_steps": 1,
                                                       "decay_rate": 0.5, "staircase": False}))


CONDITIONS: dict[str, Condition] = {
    "defaults": Condition("defaults", "constructed with no arguments (the class's own defaults), fixed data"),
    **{name: _option(name) for name in ALONE},
    "learning_rate_schedule": Condition("learning_rate_schedule", "the defaults with an ExponentialDecay learning "
                                        "rate from the default rate, halving every step", _schedule),
    "loss_scale": Condition("loss_scale", "the defaults inside a LossScaleOptimizer with its own defaults",
                            lambda s: loss_scaled(s, {})),
    **{d: Condition(d, f"the defaults on {d} variables", dtype=d) for d in DTYPES},
}


class ConditionData(FixedData):
    """Stands for `st.data()` in a fixed condition: `strategies.cases` gives the condition's case,
    any other draw takes the lower end of its range (as close to a default as a draw gets)."""

    def __init__(self, condition: Condition, run: ConditionRun) -> None:
        super().__init__(0, EndProvider, mode="bottom")
        self.condition, self.run = condition, run

    def __repr__(self) -> str:
        return f"condition({self.condition.name})"

    def case(
        self, spec: Spec, dtypes: tuple[str, ...], min_steps: int, max_steps: int, max_vars: int
    ) -> strategies.Case:
        self.run.dtypes = self.run.dtypes or dtypes
        dtype = self.condition.dtype or ("float32" if "float32" in dtypes else dtypes[0])
        if dtype not in dtypes:
            raise NotExpressible(dtype)
        anchor = Anchor(self.condition.name, self.condition.setup(spec), dtype, "spread")
        return anchor.case(steps_between(min_steps, max_steps), max_vars)

    def checked(self, case: strategies.Case) -> None:
        key = (case.setup.code, case.dtype)
        if key in self.run.seen and self.run.seen[key] != self.condition.name:
            raise NotExpressible(f"the same as {self.run.seen[key]}")
        self.run.seen[key] = self.condition.name


@dataclass
class ConditionRun:
    """What the conditions of one claim test have checked: configured (code, dtype) -> condition."""

    seen: dict[tuple[str, str], str]
    dtypes: tuple[str, ...] = ()


def _call_fixed(test: Any, kwargs: dict[str, Any], data: ConditionData, notes: list[str]) -> None:
    """The scenario's own body on `data`, outside hypothesis's engine but inside a build context
    (its draws and notes need one); the notes are collected as the condition's counterexample."""
    inner = test.hypothesis.inner_test
    cd = hooks.new_data()
    try:
        with hooks.with_reporter(notes.append), hooks.build_context(cd, is_final=True, wrapped_test=inner):
            inner(**kwargs, data=data)
    except hooks.UnsatisfiedAssumption:
        raise Unsupported(f"the claim rejects the {data.condition.name} condition's fixed case") from None


def with_conditions(test: Any, names: tuple[str, ...], identity: str = "") -> Any:
    """`test` (a @given test drawing `data`, or any claim test when `names` is empty) checking the
    fixed conditions `names` before its drawn examples, each condition's outcome kept on the running
    claim; derandomized, its drawn examples are seeded from `identity` (the claim's id)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        rc = running.current()
        if hooks.settings_of(run) is not None:  # pytest's hypothesis plugin may have set the wrapper's
            hooks.set_settings(test, hooks.settings_of(run))
        if identity:  # derandomized, the drawn examples follow the claim, not its function's text
            hooks.seed_from_identity(test, identity)
        spec, state = kwargs.get("spec"), ConditionRun({})
        for name in names:
            if name in DTYPES and name not in state.dtypes:
                continue
            notes: list[str] = []
            data = ConditionData(CONDITIONS[name], state)
            rc.check(
                name,
                lambda: _call_fixed(test, kwargs, data, notes),
                lambda: [f"condition {name}: {CONDITIONS[name].text}", *notes],
            )
            if name == "defaults" and spec is not None and _unsupported(rc):
                break
        rc.check("drawn", lambda: test(*args, **kwargs))

    return run


def _unsupported(rc: running.RunningClaim) -> bool:
    last = rc.outcomes[-1] if rc.outcomes else None
    return last is not None and last.condition == "defaults" and isinstance(last.exc, Unsupported)
