"""Claims about one option, judged against the same optimizer without it, teacher-forced.

An option's documented effect is a change to what the optimizer's own update receives: clipping
changes the gradients, decoupled weight decay the weights, a learning-rate schedule the learning
rate, gradient accumulation all three. Before each step, a new optimizer without the option
("expected") is given the state of the optimizer with it ("actual"), by variable name, and the
transformed inputs computed in float64; both then take one step and must agree. The verdict is
about the option alone (the update rule is judged by the reference claims), and optimizers with
no reference are covered too.

Tolerance: `tolerance.bound`, plus, only where that is exceeded, how far the expected optimizer
itself moves when a transformed input moves by a few roundings (it is stepped again with each
input perturbed): Keras computes the transformation in the variable's dtype, we in float64.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from conformance.adapters import common
from conformance.adapters import current as adapter
from conformance.checks import drive
from conformance.checks.pairing import COUNTERS
from conformance.checks.reproducer import script
from conformance.core import tolerance
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed
from conformance.inputs.catalogue import Setup
from conformance.inputs.strategies import Case
from conformance.reference.core import State

LABELS = ("with the option", "expected")


@dataclass
class Expected:
    """What one step of the actual optimizer must equal: a step of `setup` from `start`'s state."""

    setup: Setup  # the optimizer without the option
    weights: list[np.ndarray]  # float64 weights it is given
    grads: list[np.ndarray]  # float64 gradients it is given
    start: drive.Snapshot  # the actual optimizer's snapshot whose state it is given
    describe: str  # the transformation, for messages
    forced: dict[str, float] = field(default_factory=dict)  # state by name, instead of start's
    grad_scale: list[np.ndarray] | None = None  # what the gradients' rounding is relative to
    check_weights: bool = True
    ignore: tuple[str, ...] = ()  # state names not compared (a wrapper's own bookkeeping)
    # How it takes its step, (setup, optimizer, variables, float64 gradients) -> None, where not by
    # the adapter's eager apply_gradients (a compiled step is compared with a compiled step); the
    # setup is the one the optimizer was built from (a variant, when sensitivity is measured).
    apply: Callable[[Setup, Any, list, list], None] | None = None
    # Optimizers built for earlier steps, by (setup code, dtype, shapes), each given the next step's
    # weights and state instead of building another (and, where `apply` compiles, tracing another
    # step): one dict shared by the Expected of every step of a claim. None: a new one each step.
    reuse: dict[tuple, tuple[Any, list, list]] | None = None


def keyed(snap: drive.Snapshot) -> dict[tuple, np.ndarray]:
    """Weights and state other than the counters, keyed ("weight", i) and (name, occurrence)."""
    out: dict[tuple, np.ndarray] = {("weight", i): w for i, w in enumerate(snap.weights)}
    seen: dict[str, int] = defaultdict(int)
    for sv in snap.state:
        if sv.name not in COUNTERS:
            out[(sv.name, seen[sv.name])] = sv.value
            seen[sv.name] += 1
    return out


def forced_values(own: list[Any], given: list[Any], forced: dict[str, float]) -> list[np.ndarray]:
    """A value for each of `own` (StateVars): `forced` by name, else the next same-named, same-shaped
    one of `given`, else its own."""
    queues: dict[str, deque] = defaultdict(deque)
    for sv in given:
        queues[sv.name].append(sv)
    out = []
    for sv in own:
        q = queues[sv.name]
        if sv.name in forced:
            out.append(np.asarray(forced[sv.name]).astype(sv.value.dtype))
        elif q and tuple(q[0].shape) == tuple(sv.shape):
            out.append(np.asarray(q.popleft().value).astype(sv.value.dtype))
        else:
            out.append(sv.value)
    return out


def step(
    exp: Expected, dtype: str, weights: list | None = None, grads: list | None = None, lr_factor: float = 1.0,
    setup: Setup | None = None,
) -> drive.Snapshot:
    """One step of a new `exp.setup` (or `setup`) optimizer on `exp.weights`, its state forced."""
    a = adapter()
    setup = setup or exp.setup
    opt, vars_, own = _optimizer(exp, setup, exp.weights if weights is None else weights, dtype)
    values = forced_values(own, exp.start.state, exp.forced)
    if lr_factor != 1.0:
        values = [v * np.asarray(lr_factor, v.dtype) if sv.name == "learning_rate" else v for sv, v in zip(own, values)]
    a.assign_state(opt, values)
    if exp.apply is None:
        return drive.run(opt, vars_, [exp.grads if grads is None else grads])[0]
    exp.apply(setup, opt, vars_, exp.grads if grads is None else grads)
    return drive.snapshot(opt, vars_)


def _optimizer(exp: Expected, setup: Setup, weights: list, dtype: str) -> tuple[Any, list, list]:
    """A `setup` optimizer built on variables holding `weights`, and its state as built (the values
    `forced_values` falls back on): a new one, or the one `exp.reuse` keeps, its weights assigned,
    where its variables are still the ones it was built with (a legacy optimizer may add some)."""
    a = adapter()
    key = (setup.code, dtype, tuple(np.shape(w) for w in weights))
    kept = exp.reuse.get(key) if exp.reuse is not None else None
    if kept is not None:
        opt, vars_, built = kept
        if [sv.path for sv in a.state(opt)] == [sv.path for sv in built]:
            a.assign_weights(vars_, [common.in_dtype(w, dtype) for w in weights])
            return kept
    with a.keras_call(f"constructing {setup.code}"):
        opt = setup.build()
    vars_ = a.variables(weights, dtype)
    a.create_state(opt, vars_)
    made = (opt, vars_, a.state(opt))
    if exp.reuse is not None:
        exp.reuse[key] = made
    return made


def _sensitivity(exp: Expected, dtype: str, got: drive.Snapshot) -> dict[tuple, np.ndarray]:
    """Summed movement of the expected step when the weights, the gradients, the learning rate or
    a float hyperparameter move by `tolerance.input_perturbation(dtype)` (relative to `grad_scale`
    for gradients): a backend may round `beta_2` to the dtype before computing `1 - beta_2`."""
    p = tolerance.input_perturbation(dtype)
    scale = exp.grad_scale or [np.abs(g) for g in exp.grads]
    variants = [
        step(exp, dtype, weights=[w * (1 + p) for w in exp.weights]),
        step(exp, dtype, grads=[g + p * s for g, s in zip(exp.grads, scale)]),
        step(exp, dtype, lr_factor=1 + p),
    ]
    if exp.setup.variant is not None:
        hp = {**getattr(exp.setup.reference, "DEFAULTS", {}), **exp.setup.hp}  # defaults are rounded too
        variants += [
            step(exp, dtype, setup=exp.setup.vary(hp={**hp, k: v * (1 + p)})) for k, v in hp.items() if type(v) is float
        ]
    base = keyed(got)
    slack = {k: np.zeros(np.shape(v)) for k, v in base.items()}
    _add_formula_rounding(slack, exp, dtype)
    for v in variants:
        moved = keyed(v)
        for k in slack:
            if k in moved and np.shape(moved[k]) == np.shape(base[k]):
                slack[k] = slack[k] + np.abs(moved[k].astype(np.float64) - base[k].astype(np.float64))
    return slack


def _add_formula_rounding(slack: dict[tuple, np.ndarray], exp: Expected, dtype: str) -> None:
    """Add the rule's own estimate of the rounding its formula suffers where perturbing inputs
    cannot show it (Ftrl's difference of two powers, each rounded by its math library)."""
    rule = exp.setup.reference
    if rule is None or not hasattr(rule, "rounding_slack"):
        return
    start = keyed(exp.start)
    hp = {**rule.DEFAULTS, **exp.setup.hp}
    template = rule.init([np.asarray(w, np.float64) for w in exp.weights], hp)
    names = [{slot: (f"v{i}_{slot}", 0) for slot in slots} for i, slots in enumerate(template.slots)]
    if not all(key in start for slots in names for key in slots.values()):
        return  # state this optimizer names otherwise: the perturbations alone judge it
    state = State([{slot: np.asarray(start[key], np.float64) for slot, key in slots.items()} for slots in names])
    lr = float(next((sv.value for sv in exp.start.state if sv.name == "learning_rate"), exp.setup.lr.value(0)))
    w_slack, slot_slack = rule.rounding_slack(exp.weights, exp.grads, state, hp, lr, tolerance.rtol(dtype))
    for i, extra in enumerate(w_slack):
        slack[("weight", i)] = slack[("weight", i)] + extra
        if (f"v{i}_average", 0) in slack:  # the EMA averages the updated weight: at most its error
            slack[(f"v{i}_average", 0)] = slack[(f"v{i}_average", 0)] + extra
    for slots, extras in zip(names, slot_slack):
        for slot, extra in extras.items():
            if slots[slot] in slack:
                slack[slots[slot]] = slack[slots[slot]] + extra


def compare(
    cmp: Comparison, t: int, after: drive.Snapshot, got: drive.Snapshot, exp: Expected, slack: dict | None = None
) -> None:
    """Actual after the step against the expected step: weights, and state both have by name."""
    actual, expected, before = keyed(after), keyed(got), keyed(exp.start)
    for key, value in expected.items():
        if key not in actual or key[0] in exp.ignore or (key[0] == "weight" and not exp.check_weights):
            continue
        where = f"step {t + 1} " + (f"weight v{key[1]}" if key[0] == "weight" else key[0])
        prev = before.get(key, value)
        extra = slack.get(key, 0.0) if slack else 0.0
        cmp.close(where, actual[key], value, prev if np.shape(prev) == np.shape(value) else value, extra)


def check_step(cmp: Comparison, t: int, after: drive.Snapshot, exp: Expected, dtype: str) -> drive.Snapshot:
    """Compare the actual step with the expected one; returns the expected step's snapshot."""
    got = step(exp, dtype)
    trial = Comparison(dtype, cmp.labels)
    compare(trial, t, after, got, exp)
    if trial.failed:  # only now is it worth measuring how sensitive the expected step is
        compare(cmp, t, after, got, exp, _sensitivity(exp, dtype, got))
    else:
        cmp.worst_ratio = max(cmp.worst_ratio, trial.worst_ratio)
        cmp.worst_abs = max(cmp.worst_abs, trial.worst_abs)
    return got


Plan = Callable[[int, drive.Snapshot, list], Expected]
Also = Callable[[Comparison, int, drive.Snapshot, drive.Snapshot, drive.Snapshot], None]


def check(
    case: Case,
    plan: Plan,
    what: str,
    steps: list | None = None,
    prepare: tuple[Callable[[Any, list], None], str] | None = None,
    also: Also | None = None,
    labels: tuple[str, str] = LABELS,
    amplification: float = 1.0,
) -> Comparison:
    """Build the case's optimizer and step it; before each step `plan(t, before, grads)` says what
    it must equal.

    `prepare` is (a call on the new optimizer and its variables, that call as reproducer code);
    `also(cmp, t, before, after, expected)` adds the claim's own checks of a step. Raises ClaimFailed.
    """
    a = adapter()
    steps = case.grads if steps is None else steps
    with a.keras_call(f"constructing {case.setup.code}"):
        opt = case.setup.build()
    vars_ = a.variables(case.weights, case.dtype)
    if prepare:
        prepare[0](opt, vars_)
    # Built first, so that state initialised from the weights (ScheduleFreeAdamW's z) is taken
    # from the untransformed weights and forced into the expected optimizer like the rest.
    a.create_state(opt, vars_)
    cmp = Comparison(case.dtype, labels, amplification=amplification)
    before = drive.snapshot(opt, vars_)
    for t, grads in enumerate(steps):
        exp = plan(t, before, grads)
        after = drive.run(opt, vars_, [grads])[0]
        got = check_step(cmp, t, after, exp, case.dtype)
        if also:
            also(cmp, t, before, after, got)
        if cmp.failed:
            fail(
                case,
                steps[: t + 1],
                f"{what}: at step {t + 1}, {case.setup.code} does not match {exp.setup.code} given {exp.describe}",
                cmp,
                prepare[1] if prepare else "",
                build_first=True,
            )
        before = after
    return cmp


def take_step(setup: Setup, job: dict[str, Any]) -> dict[str, Any]:
    """One eager step of a new `setup` optimizer from the weights and state in `job` (another
    device's or backend's): the weights and state values after it."""
    a = adapter()
    with a.keras_call(f"constructing {setup.code}"):
        opt = setup.build()
    vars_ = a.variables(job["weights"], job["dtype"])
    a.create_state(opt, vars_)
    names = [sv.name for sv in a.state(opt)]
    if names != job["names"]:
        raise ClaimFailed(f"the optimizer's variables differ: {names} here, {job['names']} there")
    a.assign_state(opt, job["state"])
    a.apply(opt, job["grads"], vars_)
    return {"weights": a.values(vars_), "state": [sv.value for sv in a.state(opt)]}


def relocated(
    run: Callable[[Setup, dict[str, Any]], dict[str, Any]], dtype: str
) -> Callable[[Setup, Any, list, list], None]:
    """An `Expected.apply` whose step is taken elsewhere by `run(setup, job)` (see `take_step`)
    from the local optimizer's weights and state; the result is written back into them."""

    def apply(setup: Setup, opt: Any, vars_: list, grads: list) -> None:
        a = adapter()
        state = a.state(opt)
        job = {
            "spec": setup.spec,
            "code": setup.code,
            "imports": setup.imports,
            "dtype": dtype,
            "grads": grads,
            "weights": a.values(vars_),
            "state": [sv.value for sv in state],
            "names": [sv.name for sv in state],
        }
        answer = run(setup, job)
        a.assign_state(opt, answer["state"])
        a.assign_weights(vars_, answer["weights"])

    return apply


def rule_amplification(setup: Setup) -> float:
    """The update rule's own loss of digits (bias corrections near beta = 1), where it declares one:
    two implementations of the same formula may each lose them (backends, compiled and eager)."""
    return getattr(setup.reference, "amplification", lambda _: 1.0)(setup.hp)


def fail(
    case: Case,
    steps: list,
    what: str,
    cmp: Comparison | None,
    prelude: str = "",
    check: str = "",
    build_first: bool = False,
) -> None:
    """Raise ClaimFailed with the comparison's report and a reproducer of `steps`."""
    detail = f" ({cmp.summary()}):\n{cmp.report()}" if cmp else ""
    raise ClaimFailed(
        f"{what}{detail}", reproducer=script(case, steps, check=check, build_first=build_first, prelude=prelude)
    )


def mean(grads: list[list[np.ndarray]]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The float64 mean of several steps' gradients, and the mean of their magnitudes."""
    return [np.mean(g, axis=0) for g in zip(*grads)], [np.mean(np.abs(g), axis=0) for g in zip(*grads)]
