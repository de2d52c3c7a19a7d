"""The lifecycle state machine: one optimizer taken through any order of the things a training
script does to it, checked against the float64 reference after every one.

Rules: a step with drawn gradients, a zero-gradient step, a snapshot of the state and its
restore (`save_own_variables` / `load_own_variables`, weights included), re-instantiation from
`get_config()`, a new constant learning rate, a `.keras` save and load of the model holding it,
and `build()` of a new optimizer (from config) on a grown variable list. The model the machine
keeps is the reference state (teacher-forced from Keras's own state before every step, so that
rounding never compounds), the iteration count, the learning rate and the snapshots. Invariants
after every rule: the iteration count, the state layout (names, shapes, dtypes) stable, finite
weights. A failure shrinks to a short sequence of rules and prints it as a standalone script.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from conformance.adapters import current as adapter
from conformance.checks import drive
from conformance.checks.reproducer import array_code
from conformance.checks.trajectory import Reference
from conformance.core import hypothesis_hooks
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed, Unsupported
from conformance.inputs import anchors
from conformance.inputs.catalogue import Spec
from conformance.inputs.corners import fixed_draw
from conformance.inputs.learning_rates import LearningRate, configurable
from conformance.inputs.options import Options
from conformance.inputs.strategies import FLOAT32, Case, array, cases, checking, shapes
from conformance.reference.core import State

MAX_VARIABLES = 4
# How a script changes the learning rate between epochs: decays it, or warms it up.
LEARNING_RATE_FACTORS = st.sampled_from([0.1, 0.5, 2.0, 10.0])
# Rules taken so far in this process: the examples-per-second measure counts them.
RULES_TAKEN = [0]
# The fixed rule sequences every anchor runs before the random machine does (`scripted`): every
# rule once on the first two anchors, steps around a zero step on the others (whose findings are
# the update rule's).
SCRIPT = ("step", "snapshot", "zero_step", "step", "restore", "set_learning_rate", "step", "save_and_load", "step",
          "reinstantiate", "step", "grow", "step")
SHORT_SCRIPT = ("step", "zero_step", "step", "step")
FIXED_ARGUMENTS = {"factor": 0.1}


@dataclass
class Saved:
    """A snapshot: what Keras held (exactly) and what the model expected then."""

    number: int
    blob: Any
    snap: drive.Snapshot
    ref_state: State
    iterations: int
    lr: LearningRate | None  # None where the optimizer's variables do not hold the learning rate

    def __repr__(self) -> str:  # hypothesis prints the drawn snapshot in a failing sequence
        return f"snapshot {self.number}"


def _plain(setup: Any) -> Any:
    """The setup without base options other than weight decay (each has its own claims; weight
    decay is some optimizers' default) and without a callable learning rate (learning_rates.configurable)."""
    if setup.variant is None:
        return setup
    return setup.vary(opts=Options(weight_decay=setup.opts.weight_decay), lr=configurable(setup.lr))


class Lifecycle(RuleBasedStateMachine):
    """The rules a user's training script follows, checked against the reference after each one;
    `machine(spec)` starts it on a case of one optimizer."""

    def begin(self, case: Any) -> None:
        """Build the optimizer of `case` on its weights (the machine's first rule, `start`, calls it)."""
        self.a = a = adapter()
        self.setup, self.dtype = case.setup, case.dtype
        self.lines = (
            [f"opt = {case.setup.code}", "variables = ["]
            + [
                f"    {a.REPRO.variable.format(value=array_code(w), dtype=case.dtype, name=f'v{i}')},"
                for i, w in enumerate(case.weights)
            ]
            + ["]", a.REPRO.build]
        )
        self.saved: list[Saved] = []
        self.unavailable: set[str] = set()
        with a.keras_call(f"constructing {case.setup.code}"):
            opt = case.setup.build()
        self._hold(opt, case.weights)
        self.lr = case.setup.lr
        self._reset("after build()")

    # -- bookkeeping -------------------------------------------------------------------

    def _hold(self, opt: Any, weights: list[np.ndarray]) -> None:
        """`opt` in a new model holding `weights`, built through the public build()."""
        self.opt = opt
        self.model, self.vars = self.a.model_holding(weights, self.dtype, opt)
        self.a.create_state(opt, self.vars)

    def _reset(self, where: str) -> None:
        """A fresh optimizer: the model restarts from the reference's initial state."""
        snap = drive.snapshot(self.opt, self.vars)
        self.ref = Reference(self.setup, self.dtype, snap)
        self.ref.lr = self.lr
        self.iterations = 0
        self.layout = snap.state_layout()
        cmp = self._cmp()
        self.ref.check_built(cmp, snap, where)
        self._judge(cmp, where)

    def _cmp(self, labels: tuple[str, str] = ("keras", "reference")) -> Comparison:
        return Comparison(
            self.dtype,
            labels,
            amplification=getattr(self.ref.rule, "amplification", lambda _: 1.0)(self.ref.hp)
            if hasattr(self, "ref")
            else 1.0,
        )

    def _judge(self, cmp: Comparison, what: str) -> None:
        RULES_TAKEN[0] += 1
        if cmp.failed:
            self.lines.append(f"# here the machine expected otherwise: {what}")
            self.lines += [f"#   {m.where}{list(m.index)}: {m.expected!r}" for m in cmp.mismatches[:6]]
            raise ClaimFailed(
                f"{what}: Keras departs from the machine's model ({cmp.summary()}):\n{cmp.report()}",
                reproducer="\n".join(
                    [self.a.REPRO.header, *([self.setup.imports] if self.setup.imports else []), *self.lines]
                ),
            )

    def _step(self, grads: list[np.ndarray], what: str) -> None:
        before = drive.snapshot(self.opt, self.vars)
        self.a.apply(self.opt, grads, self.vars)
        after = drive.snapshot(self.opt, self.vars)
        self.lines.append(
            "opt.apply_gradients(zip(["
            f"{', '.join(self.a.REPRO.tensor.format(x=array_code(g), dtype=repr(self.dtype)) for g in grads)}"
            "], variables))"
        )
        cmp = self._cmp()
        self.ref.check_step(cmp, what, self.iterations, before, grads, after)
        self.iterations += 1
        self._judge(cmp, what)

    def _same(self, what: str, snap: drive.Snapshot, expected: drive.Snapshot) -> None:
        cmp = self._cmp((what.split(" ")[0], "saved"))
        drive.compare_runs(cmp, [snap], [expected])
        if snap.iterations != expected.iterations:
            cmp.differ("iterations", snap.iterations, expected.iterations)
        self._judge(cmp, what)

    # -- rules ---------------------------------------------------------------------------

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        grads = [
            data.draw(array(w.shape, self.dtype), label=f"gradient v{i}")
            for i, w in enumerate(self.a.values(self.vars))
        ]
        self._step(grads, f"step {self.iterations + 1}")

    @rule()
    def zero_step(self) -> None:
        self._step(
            [np.zeros(w.shape) for w in self.a.values(self.vars)], f"zero-gradient step {self.iterations + 1}"
        )

    @precondition(lambda self: len(self.saved) < 3 and "snapshot" not in self.unavailable)
    @rule()
    def snapshot(self) -> None:
        try:
            with self.a.keras_call("optimizer.save_own_variables(store)"):
                blob = self.a.save_state(self.opt, "own_variables")
        except Unsupported:  # Keras 2's legacy optimizers have no save_own_variables
            self.unavailable.add("snapshot")
            return
        n = len(self.saved) + 1
        # what a restore gives back is what the optimizer's variables hold: the learning rate
        # in Keras 3, not in Keras 2 (discovered from the optimizer, not assumed)
        lr = self.lr if self.a.learning_rate_saved(self.opt) else None
        self.saved.append(
            Saved(n, blob, drive.snapshot(self.opt, self.vars), self.ref.state.copy(), self.iterations, lr)
        )
        self.lines += [
            f"saved_{n} = {{}}",
            f"opt.save_own_variables(saved_{n})",
            f"weights_{n} = [{self.a.REPRO.numpy.format(x='v')} for v in variables]",
        ]
        RULES_TAKEN[0] += 1

    @precondition(lambda self: bool(self.saved))
    @rule(data=st.data())
    def restore(self, data: st.DataObject) -> None:
        s = data.draw(st.sampled_from(self.saved), label="snapshot")
        self.a.assign_weights(self.vars, s.snap.weights)
        self.a.load_state(self.opt, "own_variables", s.blob)
        self.lines += [
            f"opt.load_own_variables(saved_{s.number})",
            f"for v, w in zip(variables, weights_{s.number}):",
            "    v.assign(w)",
        ]
        self.ref.state, self.iterations = s.ref_state.copy(), s.iterations
        self.lr = self.ref.lr = s.lr or self.lr
        self._same(f"restored snapshot {s.number}", drive.snapshot(self.opt, self.vars), s.snap)

    @precondition(lambda self: "from_config" not in self.unavailable)
    @rule()
    def reinstantiate(self) -> None:
        try:
            opt = self.a.from_config(self.opt)
        except Unsupported:
            self.unavailable.add("from_config")
            return
        self.opt = opt
        self.a.recompile(self.model, opt)
        self.a.create_state(opt, self.vars)
        self.lines += ["opt = opt.__class__.from_config(opt.get_config())", self.a.REPRO.build]
        self._reset("re-instantiated from get_config()")

    @precondition(lambda self: self.lr.kind == "constant" and "learning_rate" not in self.unavailable)
    @rule(factor=LEARNING_RATE_FACTORS)
    def set_learning_rate(self, factor: float) -> None:
        value = self.lr.value(0) * factor
        try:
            self.a.set_learning_rate(self.opt, value)
        except ClaimFailed:  # refused where the API says so (MultiOptimizer: set it on the inner ones)
            self.unavailable.add("learning_rate")
            return
        self.lr = self.ref.lr = LearningRate("constant", {"value": value})
        self.lines.append(f"opt.learning_rate = {value!r}")
        RULES_TAKEN[0] += 1

    @rule()
    def save_and_load(self) -> None:
        before = drive.snapshot(self.opt, self.vars)
        loaded = self.a.keras_file_reload(self.model, [type(self.opt)])
        self.model, self.opt, self.vars = loaded, loaded.optimizer, list(loaded.layers[-1].held)
        self.lines.append(
            "# model.save('m.keras'); model = keras.models.load_model('m.keras'): the same optimizer and weights"
        )
        self._same("loaded from a .keras file", drive.snapshot(self.opt, self.vars), before)

    @precondition(lambda self: len(self.vars) < MAX_VARIABLES and "from_config" not in self.unavailable)
    @rule(data=st.data())
    def grow(self, data: st.DataObject) -> None:
        shape = data.draw(shapes, label="new variable's shape")
        new = data.draw(array(shape, self.dtype, zeros=False), label="new variable")
        try:
            opt = self.a.from_config(self.opt)
        except Unsupported:
            self.unavailable.add("from_config")
            return
        weights = self.a.values(self.vars) + [new]
        self._hold(opt, weights)
        self.saved.clear()  # their variables are gone
        n = len(weights) - 1
        self.lines += [
            "opt = opt.__class__.from_config(opt.get_config())",
            "variables = variables + ["
            f"{self.a.REPRO.variable.format(value=array_code(new), dtype=self.dtype, name=f'v{n}')}]",
            self.a.REPRO.build,
        ]
        self._reset(f"build() on {len(weights)} variables")

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def stable(self) -> None:
        if not hasattr(self, "opt"):
            return
        snap = drive.snapshot(self.opt, self.vars)
        cmp = self._cmp()
        if snap.iterations != self.iterations:
            cmp.differ("optimizer.iterations", snap.iterations, self.iterations)
        if snap.state_layout() != self.layout:
            cmp.differ("state layout (names, shapes, dtypes)", snap.state_layout(), self.layout)
        for i, w in enumerate(snap.weights):
            if not np.all(np.isfinite(w)):
                cmp.differ(f"weight v{i} finite", w.tolist(), "finite")
        self._judge(cmp, "invariants")

    def teardown(self) -> None:
        self.__dict__.clear()  # let Keras free the variables before the next example


def machine(spec: Spec) -> type[RuleBasedStateMachine]:
    """The state machine class of one optimizer: `Lifecycle`, started on a case of its spec."""

    class OfSpec(Lifecycle):
        @initialize(case=cases(spec, FLOAT32, max_steps=1, configure=lambda draw, s: _plain(s)))
        def start(self, case: Any) -> None:
            self.begin(case)

    OfSpec.__name__ = OfSpec.__qualname__ = f"Lifecycle_{spec.name.replace('.', '_').replace(':', '_')}"
    return OfSpec


class ScriptedData:
    """`st.data()` for a scripted rule: the anchor's gradients for the variables it has, anything
    else (a new variable, which snapshot to restore) drawn by corner 0."""

    def __init__(self, grads: list[np.ndarray]) -> None:
        self.grads = grads

    def draw(self, strategy: st.SearchStrategy, label: str = "") -> Any:
        if label.startswith("gradient v") and int(label[len("gradient v") :]) < len(self.grads):
            return self.grads[int(label[len("gradient v") :])]
        return fixed_draw(strategy, corner=0)


def scripted(spec: Spec) -> None:
    """Each of `spec`'s float32 anchors through a fixed rule sequence (SCRIPT, SHORT_SCRIPT), with
    the machine's checks after every rule: what the machine's random walks reach in some runs only."""
    cls = machine(spec)
    for n, p in enumerate(anchors.anchors(spec, FLOAT32)):
        case = p.case(anchors.steps_between(1, 3), MAX_VARIABLES - 1)
        case = checking(Case(_plain(case.setup), case.dtype, case.weights, case.grads))
        script = SCRIPT if n < 2 else SHORT_SCRIPT
        m = cls()
        taken = ["start"]
        try:
            m.start(case=case)
            for name in script:
                rule = next(r for r in hypothesis_hooks.rules(m) if r.function.__name__ == name)
                if all(pre(m) for pre in rule.preconditions):
                    grads = case.grads[sum(t == "step" for t in taken) % len(case.grads)]
                    taken.append(name)
                    rule.function(
                        m, **{k: ScriptedData(grads) if k == "data" else FIXED_ARGUMENTS[k] for k in rule.arguments}
                    )
                m.stable()
        except ClaimFailed as e:
            e.add_note(f"Anchor {n} ({p.name}, {p.pattern} data), fixed rule sequence: {', '.join(taken)}")
            raise
        finally:
            m.teardown()
