"""Run a Keras optimizer and its independent counterpart side by side, free-running, and compare.

Both start from the same weights and take the same gradients; Keras runs with float64 variables
(where its backend holds float64) and the library in float64. Nothing is teacher-forced: after
k steps each has its own state, so the allowed error grows with the step count
(`tolerance.bound`), plus how far the library's own trajectory moves when its inputs move by a
few roundings of the dtype (the formula's conditioning, measured here, not assumed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any, Callable, Sequence

import numpy as np
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive
from conformance.checks.reproducer import array_code, script
from conformance.core import tolerance
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed, Unsupported
from conformance.independent import optax_impl, torch_optim
from conformance.independent.mapping import (
    Target,
    adjusted,
    default_differences,
    describe_call,
    float32_exact,
    is_rate,
    library_kwargs,
)
from conformance.inputs import registry
from conformance.inputs.catalogue import Setup, Spec
from conformance.inputs.learning_rates import LearningRate
from conformance.inputs.options import Options
from conformance.inputs.strategies import FLOAT64, Case, cases

LIBRARIES: dict[str, ModuleType] = {"torch": torch_optim, "optax": optax_impl}
# Few, short runs: every step of a free-running comparison is checked, and the claim is about the
# algorithm, which small shapes exercise as well as large ones.
MAX_STEPS = 4
MAX_VARS = 2


def target_for(spec: Spec, library: str) -> tuple[str, Target]:
    """The Keras optimizer name whose mapping applies to `spec`, and its table entry; Unsupported
    where the library is not installed or has no counterpart."""
    lib = LIBRARIES[library]
    if not lib.available():
        raise Unsupported(f"{lib.MODULE} is not installed: there is no {lib.LABEL} to compare {spec.name} with")
    if spec.kind == "wrapper":
        raise Unsupported(f"{spec.name} wraps another optimizer; {lib.LABEL} has no counterpart of the wrapper itself")
    name = spec.parent or spec.name
    record = registry.record(name)
    why = record.why_missing(lib.SPEC_FIELD) if record is not None else None
    if why:
        raise Unsupported(f"{spec.name}: {why}")
    target = getattr(record, lib.SPEC_FIELD) if record is not None else None
    if target is None or spec.kind == "unspecced":
        raise Unsupported(
            f"{spec.name}: the suite has no mapping of it to {lib.LABEL} "
            "(neither a mapped built-in nor a subclass of one)"
        )
    return name, target


def _keras_hp(setup: Setup) -> dict[str, Any]:
    """The configuration's hyperparameters with learning_rate and weight_decay among them."""
    return {**setup.hp, "learning_rate": setup.lr.value(0), "weight_decay": setup.opts.weight_decay}


def mappable(name: str, target: Target) -> Callable[[st.DrawFn, Setup], Setup]:
    """Re-make a drawn configuration into one the table maps: every documented hyperparameter
    given explicitly, on the float32-exact grid, adjusted as the table says; a constant learning
    rate (schedules are not mapped: its first value); no base option but a mapped weight_decay."""

    def configure(draw: st.DrawFn, setup: Setup) -> Setup:
        record = registry.record(name)
        rule = record.reference if record is not None else None
        wd = setup.opts.weight_decay
        if wd is None and record is not None:
            wd = record.default_weight_decay
        hp = {**(rule.DEFAULTS if rule else {}), **setup.hp, "learning_rate": setup.lr.value(0), "weight_decay": wd}
        hp = adjusted(target, {k: float32_exact(v, is_rate(name, k)) for k, v in hp.items()})
        lr, wd = hp.pop("learning_rate"), hp.pop("weight_decay")
        return setup.vary(hp=hp, opts=Options(weight_decay=wd), lr=LearningRate("constant", {"value": lr}))

    return configure


@dataclass
class Run:
    """One library call: what was built, and its weights after every step."""

    label: str
    constructor: str
    kwargs: dict[str, Any]
    weights: list[list[np.ndarray]]

    @property
    def call(self) -> str:
        return describe_call(self.label, self.constructor, self.kwargs)


def _perturbed(weights: list[np.ndarray], grads: list[list[np.ndarray]], up: float) -> list[tuple[list, list]]:
    """Inputs moved by `up` (relative): the weights; every gradient; the gradients of alternate
    steps in opposite directions (which exposes cancellation between steps' contributions)."""
    return [
        ([w * (1 + up) for w in weights], grads),
        (weights, [[g * (1 + up) for g in step] for step in grads]),
        (weights, [[g * (1 + (-1) ** t * up) for g in step] for t, step in enumerate(grads)]),
    ]


def _conditioning(
    lib: ModuleType, run: Run, weights: list[np.ndarray], grads: list[list[np.ndarray]], dtype: str
) -> list[list[np.ndarray]]:
    """Per step and variable, how far the library's trajectory moves under `_perturbed` inputs."""
    spread = [[np.zeros_like(w) for w in step] for step in run.weights]
    for w, g in _perturbed(weights, grads, tolerance.input_perturbation(dtype)):
        moved = lib.run(run.constructor, run.kwargs, w, g)
        for t, step in enumerate(moved):
            for i, x in enumerate(step):
                # a perturbed run that turns non-finite says nothing about rounding: no slack from it
                spread[t][i] = spread[t][i] + np.nan_to_num(np.abs(x - run.weights[t][i]), nan=0.0, posinf=0.0)
    return spread


def differences(actual: Sequence[np.ndarray], expected: Sequence[np.ndarray]) -> tuple[float, float]:
    """The largest absolute and relative differences over all elements (relative to |expected|,
    where it is finite and not zero); the same value (NaN against NaN, one infinity) is no difference."""
    worst_abs = worst_rel = 0.0
    for a, e in zip(actual, expected):
        a, e = np.asarray(a, np.float64), np.asarray(e, np.float64)
        with np.errstate(invalid="ignore"):
            err = np.where((np.isnan(a) & np.isnan(e)) | (a == e), 0.0, np.abs(a - e))
        err = np.where(np.isnan(err), np.inf, err)
        if err.size:
            worst_abs = max(worst_abs, float(np.max(err)))
            scale = (e != 0) & np.isfinite(e)
            rel = np.where(scale, err / np.where(scale, np.abs(e), 1.0), np.where(err > 0, np.inf, 0.0))
            worst_rel = max(worst_rel, float(np.max(rel)))
    return worst_abs, worst_rel


def _reproducer(case: Case, lib: ModuleType, run: Run, steps: int) -> str:
    tail = "\n".join(
        [
            "",
            f"keras_weights = [{adapter().REPRO.numpy.format(x='v')} for v in variables]",
            "for i, (k, w) in enumerate(zip(keras_weights, library_weights)):",
            f"    print(f'v{{i}}: keras {{k!r}}, {run.label}.{run.constructor} {{w!r}}, "
            "max |difference| {np.max(np.abs(k - w))!r}')",
        ]
    )
    ws = [array_code(w) for w in case.weights]
    return script(case, case.grads[:steps], check=f"# the same steps with {run.call}:\n{lib.code(run.call, ws)}{tail}")


@dataclass
class Outcome:
    """A side-by-side run: the library's run, the comparison, and where it first failed."""

    run: Run
    cmp: Comparison
    step: int = 0  # the first step that differs beyond the tolerance (0: none)
    keras_weights: list[np.ndarray] | None = None  # Keras's weights after that step

    def measured(self) -> str:
        worst_abs, worst_rel = differences(self.keras_weights or [], self.run.weights[self.step - 1])
        return (
            f"max |keras - {self.run.label}.{self.run.constructor}| {worst_abs:.3g}, "
            f"max relative difference {worst_rel:.3g}"
        )


def _amplification(name: str, hp: dict[str, Any]) -> float:
    """The rounding amplification the two may legitimately differ by: the rule's own (bias
    corrections near beta = 1, declared by its reference) times that of its moving averages."""
    record = registry.record(name)
    rule = record.reference if record is not None else None
    own = getattr(rule, "amplification", lambda _: 1.0)(hp) if rule else 1.0
    return own * tolerance.moving_average_amplification(
        v for k, v in hp.items() if is_rate(name, k) and type(v) is float
    )


def compare(case: Case, lib: ModuleType, target: Target, name: str, overrides: dict[str, Any] | None = None) -> Outcome:
    """Run the case on Keras and on the library, step by step; stop at the first step that differs."""
    opt, vars_ = drive.fresh(case)
    snaps = drive.run(opt, vars_, case.grads)
    # The precision the backend holds float64 variables in (JAX without x64 holds float32).
    dtype = str(snaps[0].weights[0].dtype) if snaps and snaps[0].weights else case.dtype
    weights, grads = drive.as_dtype(case.weights, dtype), [drive.as_dtype(g, dtype) for g in case.grads]
    ctor, kwargs = library_kwargs(target, _keras_hp(case.setup), overrides)
    run = Run(lib.LABEL, ctor, kwargs, lib.run(ctor, kwargs, weights, grads))
    slack = _conditioning(lib, run, weights, grads, dtype)
    out = Outcome(run, Comparison(dtype, ("keras", f"{lib.LABEL}.{ctor}"), _amplification(name, case.setup.hp)))
    for t, snap in enumerate(snaps):
        out.cmp.steps = t + 1  # free-running: the roundings of every step so far add up
        prev = run.weights[t - 1] if t else weights
        for i, actual in enumerate(snap.weights):
            out.cmp.close(f"step {t + 1} weight v{i}", actual, run.weights[t][i], prev[i], slack[t][i])
        if out.cmp.failed:
            out.step, out.keras_weights = t + 1, snap.weights
            break
    return out


def _not_held(case: Case, values: dict[str, Any]) -> dict[str, Any]:
    """The probe's Keras values that the optimizer built with them does not hold, with what it
    holds instead (Keras 2's legacy optimizers take `epsilon or backend.epsilon()`: 1e-7 for 0.0);
    a float32-held hyperparameter holds the float32 rounding of a value."""
    built = drive.construct(case)
    opt = getattr(built, "inner_optimizer", built)  # a LossScaleOptimizer's optimizer holds them
    out = {}
    for k, v in values.items():
        held = adapter().hyperparameter(opt, k)
        if type(v) is not float or not isinstance(held, (int, float)) or isinstance(held, bool):
            continue
        if held != v and not (held == float(np.float32(v)) and np.float32(v) != 0.0):
            out[k] = held
    return out


def _probes(case: Case, lib: ModuleType, name: str, target: Target) -> list[str]:
    """For each probe of the table entry: do the two agree on the same inputs with its values?
    A probe the Keras optimizer cannot take (an option it refuses, a value it replaces) is
    reported as not run: it says nothing about the cause."""
    lines = []
    for probe in target.probes:
        hp = {**case.setup.hp, **{k: v for k, v in probe.keras.items() if k != "weight_decay"}}
        opts = replace(case.setup.opts, weight_decay=probe.keras.get("weight_decay", case.setup.opts.weight_decay))
        try:
            probed = replace(case, setup=case.setup.vary(hp=hp, opts=opts))
            replaced = _not_held(probed, probe.keras)
            if replaced:
                held = ", ".join(f"{k}={v!r}" for k, v in replaced.items())
                lines.append(f"probe: with {probe.text(lib.LABEL)}: not run, the Keras optimizer holds {held} instead")
                continue
            out = compare(probed, lib, target, name, probe.library)
        except (Unsupported, ClaimFailed) as e:
            lines.append(f"probe: with {probe.text(lib.LABEL)}: not run ({str(e).splitlines()[0]})")
            continue
        if out.step:
            lines.append(f"probe: with {probe.text(lib.LABEL)} they still differ at step {out.step} ({out.measured()})")
        else:
            lines.append(f"probe: with {probe.text(lib.LABEL)} they agree ({out.cmp.summary()})")
    return lines


def _failure(case: Case, lib: ModuleType, name: str, target: Target, out: Outcome) -> ClaimFailed:
    run = out.run
    keras_cls = adapter().exported_optimizers()[name]
    defaults = default_differences(keras_cls, target, lib.constructor(run.constructor))
    shown_defaults = ", ".join(f"{k} {kd!r} vs {ld!r}" for k, (kd, ld) in defaults.items())
    return ClaimFailed(
        f"{case.setup.code} departs from {run.call} at step {out.step} ({out.cmp.summary()}):\n"
        f"measured at step {out.step}: {out.measured()}\n"
        f"mapped hyperparameters: keras {_shown(case.setup)} -> {run.label}.{run.constructor} {run.kwargs}\n"
        f"{out.cmp.report()}\n"
        + "".join(f"{line}\n" for line in _probes(case, lib, name, target))
        + (
            f"(defaults that differ, Keras vs {run.label}, all passed explicitly here: {shown_defaults})"
            if defaults
            else ""
        ),
        reproducer=_reproducer(case, lib, run, out.step),
    )


def _shown(setup: Setup) -> dict[str, Any]:
    return {"learning_rate": setup.lr.value(0), **setup.hp, **setup.opts.kwargs()}


def check(data: Any, spec: Spec, library: str) -> Comparison:
    """Draw a mappable case of `spec`, run Keras and `library` on it, raise ClaimFailed on a
    difference beyond the tolerance."""
    name, target = target_for(spec, library)
    lib = LIBRARIES[library]
    case = data.draw(
        cases(spec, FLOAT64, max_steps=MAX_STEPS, max_vars=MAX_VARS, configure=mappable(name, target)), label="case"
    )
    out = compare(case, lib, target, name)
    if out.step:
        raise _failure(case, lib, name, target, out)
    return out.cmp
