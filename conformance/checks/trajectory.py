"""Teacher-forced comparison of a Keras optimizer with its float64 reference.

Before every step, the reference is given Keras's own weights and state (read back as float64),
so each step is judged on its own and rounding never compounds; the state Keras carries into the
next step is therefore checked too (the state-persists question: state persists between steps).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np

from conformance.adapters import current as adapter
from conformance.checks import drive, pairing
from conformance.checks.reproducer import script
from conformance.core import tolerance
from conformance.core.compare import Comparison, Mismatch
from conformance.core.errors import ClaimFailed, Unsupported
from conformance.inputs.spec import DOCS
from conformance.inputs.strategies import Case
from conformance.reference import base_options as ref_options
from conformance.reference.core import State


def _state_from_keras(template: State, mapping: dict[tuple, int], keras_state: list[Any]) -> State:
    slots = [
        {k: np.asarray(keras_state[mapping[(i, k)]].value, np.float64) for k in s} for i, s in enumerate(template.slots)
    ]
    shared = {
        k: np.asarray(keras_state[mapping[("shared", k)]].value, np.float64) if ("shared", k) in mapping else v
        for k, v in template.shared.items()
    }
    return State(slots, shared)


def _entries(weights: list[np.ndarray], state: State, mapping: dict) -> dict[tuple, np.ndarray]:
    """Weights and paired state of one reference step, keyed like the comparisons."""
    out: dict[tuple, np.ndarray] = {("weight", i): w for i, w in enumerate(weights)}
    for key in mapping:
        out[key] = state.shared[key[1]] if key[0] == "shared" else state.slots[key[0]][key[1]]
    return out


def _scaled(state: State, slot: str, factor: float) -> State:
    out = state.copy()
    for s in out.slots:
        if slot in s:
            s[slot] = s[slot] * factor
    return out


def _sensitivity(
    step: Callable, inputs: tuple, hp: dict, opts: Any, dtype: str, mapping: dict
) -> dict[tuple, np.ndarray]:
    """How far the reference moves when any one input moves by a few roundings of the dtype.

    Inputs are the float hyperparameters and options, the weights, the gradients and each state
    slot. Added to the allowed error, this is the conditioning of the documented formula in this
    dtype: 1 - beta_2 ** t with beta_2 near 1, or Ftrl's n_new ** -p - n_old ** -p for a tiny
    gradient, lose digits however carefully they are computed.
    """
    weights, grads, state = inputs
    base = _entries(*step(hp, opts, *inputs), mapping)
    spread = {k: np.zeros_like(v) for k, v in base.items()}
    # Each variant moves one input by the factor f.
    variants: list[Callable[[float], tuple]] = [
        lambda f, k=k, v=v: ({**hp, k: v * f}, opts, *inputs)
        for k, v in hp.items()
        if type(v) is float and not k.startswith("_")
    ]
    variants += [
        lambda f, k=k, v=v: (hp, replace(opts, **{k: v * f}), *inputs)
        for k, v in vars(opts).items()
        if type(v) is float
    ]
    variants += [
        lambda f: (hp, opts, [w * f for w in weights], grads, state),
        lambda f: (hp, opts, weights, [g * f for g in grads], state),
    ]
    slots = {k for s in state.slots for k in s}
    variants += [lambda f, slot=slot: (hp, opts, weights, grads, _scaled(state, slot, f)) for slot in slots]
    delta = tolerance.input_perturbation(dtype)
    for variant in variants:
        moved = _entries(*step(*variant(1 + delta)), mapping)
        if any(np.any(~np.isfinite(moved[k]) & np.isfinite(base[k])) for k in spread):
            # Moved up, the input left the formula's domain (a decay rate just below 1 crossing it:
            # sqrt(1 - beta_2 ** t) of a negative is NaN, and so would be the allowed error): move it down.
            moved = _entries(*step(*variant(1 - delta)), mapping)
        for k in spread:
            spread[k] = spread[k] + np.abs(moved[k] - base[k])
    return spread


def _add_rounding_slack(slack: dict, rule: Any, inputs: tuple, hp: dict, lr: float, dtype: str) -> None:
    """Add a rule's own estimate of the rounding its formula suffers where consistent input
    perturbations cancel out (Ftrl's difference of accumulator powers)."""
    if not hasattr(rule, "rounding_slack"):
        return
    weights, grads, state = inputs
    w_slack, slot_slack = rule.rounding_slack(weights, grads, state, hp, lr, tolerance.rtol(dtype))
    for i, extra in enumerate(w_slack):
        slack[("weight", i)] = slack[("weight", i)] + extra
        if (i, ref_options.AVERAGE) in slack:  # the EMA averages the updated weight: at most its error
            slack[(i, ref_options.AVERAGE)] = slack[(i, ref_options.AVERAGE)] + extra
    for i, slots in enumerate(slot_slack):
        for name, extra in slots.items():
            if (i, name) in slack:
                slack[(i, name)] = slack[(i, name)] + extra


def rounding(dtype: str) -> Callable[[float], float]:
    """Round a Python float to the nearest value of `dtype`."""
    np_dtype = adapter().np_dtype(dtype)
    return lambda v: float(np.asarray(v, np.float64).astype(np_dtype).astype(np.float64))


class Reference:
    """The float64 reference model of one setup in one dtype, stepped teacher-forced: each step
    starts from the weights and state Keras holds (read back as float64), so rounding never
    compounds; state the reference keeps and Keras has no variable for stays the reference's own."""

    def __init__(self, setup: Any, dtype: str, built: drive.Snapshot) -> None:
        self.setup, self.rule, self.dtype = setup, setup.reference, dtype
        if self.rule is None:
            raise Unsupported(f"{setup.spec} has no reference rule: give a spec with a reference ({DOCS})")
        # The optimizer can only hold its hyperparameters in the variables' dtype: round them to it, so
        # that the comparison measures the algorithm rather than the representation of 0.999.
        self.cast = cast = rounding(dtype)
        hp = {k: cast(v) if type(v) is float else v for k, v in {**self.rule.DEFAULTS, **setup.hp}.items()}
        hp["_names"] = [f"v{i}" for i in range(len(built.weights))]
        hp["_lr_schedule"] = setup.lr.kind != "constant"
        self.hp = hp
        self.opts = replace(setup.opts, **{k: cast(v) for k, v in vars(setup.opts).items() if type(v) is float})
        self.lr = setup.lr
        self.state = ref_options.init(self.rule, hp, self.opts, built.weights)
        self.mapping, missing = pairing.pair(self.rule, self.state, built.state)
        if missing:
            names = [sv.path for sv in built.state]
            raise ClaimFailed(f"reference state {missing} has no Keras counterpart; Keras state after build(): {names}")

    def check_built(self, cmp: Comparison, snap: drive.Snapshot, where: str = "after build()") -> None:
        """Keras's freshly built state against the reference's initial state."""
        for (i, slot), j in ((k, j) for k, j in self.mapping.items() if k[0] != "shared"):
            ref = self.state.slots[i][slot]
            cmp.close(f"{where} {snap.state[j].path}", snap.state[j].value, ref, ref)

    def check_step(
        self, cmp: Comparison, where: str, t: int, before: drive.Snapshot, grads: list, after: drive.Snapshot
    ) -> None:
        """Keras's step from `before` to `after` with `grads` against the reference's step from
        `before` when the iteration counter read `t` (0-based); advances the reference's state."""
        rule, lr, cast, dtype, mapping = self.rule, self.lr, self.cast, self.dtype, self.mapping
        forced = _state_from_keras(self.state, mapping, before.state)

        def step(h: dict, o: Any, weights: list, grads: list, state: State) -> tuple[list[np.ndarray], State]:
            return ref_options.step(rule, h, o, lr, weights, grads, state, t, cast)

        inputs = (before.weights, drive.as_dtype(grads, dtype), forced)
        ref_w, self.state = step(self.hp, self.opts, *inputs)
        expected = _entries(ref_w, self.state, mapping)
        start = _entries(before.weights, forced, mapping)
        slack = _sensitivity(step, inputs, self.hp, self.opts, dtype, mapping)
        _add_rounding_slack(slack, rule, inputs, self.hp, cast(lr.value(t)), dtype)
        for key, ref in expected.items():
            actual = after.weights[key[1]] if key[0] == "weight" else after.state[mapping[key]].value
            at = f"weight v{key[1]}" if key[0] == "weight" else after.state[mapping[key]].path
            cmp.close(f"{where} {at}", actual, ref, start[key], slack[key])


def check(case: Case) -> Comparison:
    """Run the case on Keras and the reference; raise ClaimFailed on any mismatch."""
    opt, vars_ = drive.fresh(case, slots=True)
    snap = drive.snapshot(opt, vars_)
    ref = Reference(case.setup, case.dtype, snap)
    cmp = Comparison(case.dtype, amplification=getattr(ref.rule, "amplification", lambda _: 1.0)(ref.hp))
    ref.check_built(cmp, snap)
    k = case.setup.opts.gradient_accumulation_steps
    for t, grads in enumerate(case.grads):
        new = drive.run(opt, vars_, [grads])[0]
        ref.check_step(cmp, f"step {t + 1}", t, snap, grads, new)
        expected_iterations = (t + 1) // k if k else t + 1
        if new.iterations != expected_iterations:
            cmp.mismatches.append(
                Mismatch(f"step {t + 1} optimizer.iterations", (), new.iterations, expected_iterations, 0)
            )
        if cmp.failed:
            break
        snap = new
    if cmp.failed:
        unmodelled = pairing.unpaired(ref.mapping, snap.state)
        raise ClaimFailed(
            f"Keras departs from the float64 reference ({cmp.summary()}):\n{cmp.report()}"
            + (f"\n(Keras state not modelled by the reference: {unmodelled})" if unmodelled else ""),
            reproducer=script(
                case,
                case.grads[: t + 1],
                check=f"# the float64 reference expects, after step {t + 1}:\n"
                + "\n".join(f"#   {m.where}{list(m.index)}: {m.expected!r}" for m in cmp.mismatches[:6]),
            ),
        )
    return cmp
