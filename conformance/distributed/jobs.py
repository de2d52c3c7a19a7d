"""What a worker runs: the distributed side of each claim and its comparison with one device.

Each job rebuilds the optimizer from the reproducer code the suite drew (so the worker runs exactly
what a failure's reproducer shows), runs it replicated, and compares in the worker, where both the
replicated and the single-device optimizer live. A ClaimFailed carries `context` (the mode and the
steps run) for the suite's reproducer.
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from conformance.adapters import current as adapter
from conformance.checks import drive, equivalence
from conformance.checks.pairing import COUNTERS
from conformance.core import tolerance
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed, Unsupported
from conformance.inputs.catalogue import Setup
from conformance.inputs.options import Options

MODES = {False: "eager steps", True: "compiled steps"}


def setup_of(job: dict[str, Any]) -> Setup:
    """The optimizer the suite drew, rebuilt from its reproducer code, in which `keras` is the
    adapter's module (tf.keras where the worker, like the suite, runs Keras 2)."""
    ns: dict[str, Any] = {"keras": adapter().keras_module, "np": np}
    if job["imports"]:
        exec(job["imports"], ns)  # noqa: S102 - the suite's own reproducer imports
    code = job["code"]
    return Setup(job["spec"], {}, Options(), None, None, lambda: eval(code, ns), code, job["imports"])  # noqa: S307


def _failed(message: str, **context: Any) -> ClaimFailed:
    e = ClaimFailed(message)
    e.context = context  # type: ignore[attr-defined]
    return e


def _short(message: str, limit: int = 1500) -> str:
    """A TensorFlow/JAX error without the Python stack and argument dumps it carries (the
    reproducer shows the code), and without object addresses, so that it reads the same each run."""
    message = re.sub(r"\x1b\[[0-9;]*m", "", message)  # Keras's bold markup
    message = re.sub(r" at 0x[0-9a-f]+", "", message)
    # TensorFlow's per-process counters (a resource's, a traced function's) count what ran before, and
    # where the variable was created names this machine's files.
    message = re.sub(r"(resource \S+?)/\d+ (\(defined @ [^)]*\) )?", r"\1 ", message)
    message = re.sub(r"(\[Op:\S+?)_\d+\]", r"\1]", message)
    kept = []
    for line in message.splitlines():
        bare = line.strip()
        if (
            not bare
            or bare.startswith(('File "', "•", "Arguments received by"))
            or (line.startswith("        ") and "Error" not in line)
        ):
            continue
        kept.append(line)
    text = "\n".join(kept)
    return text if len(text) <= limit else text[: limit // 2] + "\n...\n" + text[-limit // 2 :]


Held = list[tuple[str, list[tuple[str, np.ndarray]]]]  # (variable, [(how it was read, value)])


def _per_replica(group: Any, opt: Any, vars_: list, reads: bool = False) -> Held:
    """Every model and optimizer variable's value on each replica this process holds; `reads`: the
    optimizer's variables read every way a user reads one (`group.reads`) as well."""
    weights = [(f"weight v{i}", v) for i, v in enumerate(vars_)]
    state = [(getattr(v, "path", v.name), v) for v in adapter().optimizer_variables(opt)]
    out: Held = [(name, [(f"replica {r}", x) for r, x in enumerate(group.local(var))]) for name, var in weights]
    if not reads:
        return out + [(name, [(f"replica {r}", x) for r, x in enumerate(group.local(var))]) for name, var in state]
    return out + list(zip([name for name, _ in state], group.reads([var for _, var in state])))


def _agree(cmp: Comparison, t: int, values: Held) -> None:
    """Every value of a variable, however read on whichever replica, equals its first, bit for bit."""
    for name, held in values:
        first, x0 = held[0]
        for how, x in held[1:]:
            cmp.equal(f"step {t + 1} {name}: {how} (vs {first})", x, x0)


def summed(replica_grads: list) -> list[list[np.ndarray]]:
    """Each step's float64 sum over replicas (exact: the suite draws gradients whose sums are)."""
    return [[np.sum(np.stack(g), axis=0) for g in zip(*by_replica)] for by_replica in replica_grads]


def _fresh(group: Any, setup: Setup, job: dict[str, Any]) -> tuple[Any, list]:
    a = adapter()
    with group.scope():
        with a.keras_call(f"constructing {setup.code} under {group.describe}"):
            opt = setup.build()
        vars_ = a.variables(job["weights"], job["dtype"])
        if job["built"]:  # build(), or the legacy family's slot creation (it has no build())
            a.create_state(opt, vars_)
    return opt, vars_


def _steps(group: Any, opt: Any, vars_: list, job: dict[str, Any], compiled: bool, apply: Callable | None = None):
    """Run the job's steps replicated; yields (t, snapshot before, snapshot after)."""
    a = adapter()
    step = group.stepper(opt, vars_, compiled, apply)
    before = drive.snapshot(opt, vars_)
    for t, by_replica in enumerate(job["replica_grads"]):
        scale = a.loss_scale(opt)  # gradients are those of opt.scale_loss(loss), as Keras documents
        try:
            with a.keras_call(f"step {t + 1} under {group.describe} ({MODES[compiled]})"), group.scope():
                step([[g * scale for g in grads] for grads in by_replica])
        except ClaimFailed as e:
            raise _failed(_short(str(e)), compiled=compiled, steps=t + 1) from None
        after = drive.snapshot(opt, vars_)
        yield t, before, after
        before = after


def _like_one_device(one: Any, compiled: bool) -> Callable[[Setup, Any, list, list], None]:
    """The single-device step a replicated one must equal: the same call, compiled alike, with no
    replication (TensorFlow's default strategy; JAX without a distribution). One stepper per
    optimizer (`Expected.reuse` keeps the optimizer across steps), so a compiled step is traced once."""
    steppers: dict[int, tuple[Any, Callable]] = {}

    def apply(setup: Setup, opt: Any, vars_: list, grads: list) -> None:
        scale = adapter().loss_scale(opt)
        if id(opt) not in steppers:  # the optimizer is kept alongside, so its id is not reused
            steppers[id(opt)] = (opt, one.stepper(opt, vars_, compiled))
        steppers[id(opt)][1]([[g * scale for g in grads]])

    return apply


def replicas(groups: Any, job: dict[str, Any]) -> dict[str, Any]:
    """Each replicated step equals one single-device step, teacher-forced from the replicated
    state and given the summed gradients; counters advance alike; replicas agree.

    Every step runs before any is judged: the processes of a multi-worker cluster must issue the
    same collectives, so none may stop early on what it alone observed.
    """
    group = groups.group(job["n"])
    setup, dtype, compiled, reads = setup_of(job), job["dtype"], job["compiled"], job.get("reads", False)
    opt, vars_ = _fresh(group, setup, job)
    ran = [
        (before, after, _per_replica(group, opt, vars_, reads))
        for _, before, after in _steps(group, opt, vars_, job, compiled)
    ]
    totals = summed(job["replica_grads"])
    like_one, reuse = _like_one_device(groups.one(), compiled), {}
    where = f"{group.describe}, {MODES[compiled]}, {'built' if job['built'] else 'unbuilt'} optimizer"
    for t, (before, after, held) in enumerate(ran):
        agree = Comparison(dtype, ("this", "the first"))
        _agree(agree, t, held)
        cmp = Comparison(dtype, ("replicated", "one device"))
        exp = equivalence.Expected(
            setup, before.weights, totals[t], before, f"the sum of the {group.n} replica gradients", apply=like_one,
            reuse=reuse,
        )
        got = equivalence.check_step(cmp, t, after, exp, dtype)
        if after.iterations != got.iterations:
            cmp.differ(f"step {t + 1} iterations (replicated vs one device)", after.iterations, got.iterations)
        if reads:  # the counters too (check_step leaves them to the iteration count above)
            _counters_equal(cmp, t, after, got)
        problems = []
        if cmp.failed:
            problems.append(
                f"step {t + 1} does not equal one single-device step given {exp.describe} "
                f"({cmp.summary()}):\n{cmp.report()}"
            )
        if agree.failed:
            problems.append(f"replicas hold different values after step {t + 1}:\n{agree.report()}")
        if problems:
            raise _failed(f"{where}: " + "\n".join(problems), compiled=compiled, steps=t + 1)
    last = ran[-1][1]
    return {"devices": group.devices, "finals": [*last.weights, *[sv.value for sv in last.state]]}


def _counters_equal(cmp: Comparison, t: int, after: drive.Snapshot, got: drive.Snapshot) -> None:
    """The iteration counter and learning-rate variable, bit for bit (one step moves them alike)."""
    # In order: a wrapper (LossScaleOptimizer) has its own counters before its inner optimizer's.
    mine = [sv for sv in after.state if sv.name in COUNTERS]
    theirs = [sv for sv in got.state if sv.name in COUNTERS]
    if [sv.name for sv in mine] != [sv.name for sv in theirs]:
        cmp.differ(f"step {t + 1} counters", [sv.path for sv in mine], [sv.path for sv in theirs])
        return
    for sv, other in zip(mine, theirs):
        cmp.equal(f"step {t + 1} {sv.path}", sv.value, other.value)


def manual(groups: Any, job: dict[str, Any]) -> dict[str, Any]:
    """The caller's all-reduce plus apply_gradients without aggregation equals the automatic path."""
    a = adapter()
    group = groups.group(job["n"])
    setup = setup_of(job)
    with a.keras_call(f"constructing {setup.code}"):  # a constructor's refusal is a finding, not a harness error
        flags = a.unaggregated_flags(setup.build())
    runs = {}
    for by_hand in (False, True):
        opt, vars_ = _fresh(group, setup, job)

        def apply(grads: list, opt: Any = opt, vars_: list = vars_) -> None:
            opt.apply_gradients(zip(a.unscaled(opt, group.all_reduce(grads)), vars_), **flags)

        runs[by_hand] = [after for _, _, after in _steps(group, opt, vars_, job, False, apply if by_hand else None)]
    cmp = Comparison(job["dtype"], ("all-reduced by the caller", "aggregated by apply_gradients"))
    drive.compare_runs(cmp, runs[True], runs[False])
    for t, (m, d) in enumerate(zip(runs[True], runs[False])):
        if m.iterations != d.iterations:
            cmp.differ(f"step {t + 1} iterations", m.iterations, d.iterations)
    if cmp.failed:
        shown = ", ".join(f"{k}={v}" for k, v in flags.items())
        raise _failed(
            f"{group.describe}: all_reduce(SUM) by the caller and apply_gradients(..., {shown}) differs from "
            f"apply_gradients aggregating ({cmp.summary()}):\n{cmp.report()}",
            compiled=False,
            steps=len(job["replica_grads"]),
            flags=flags,
        )
    return {"devices": group.devices}


@dataclass
class Fitted:
    """What one model.fit left: the model weights, the optimizer state (adapter StateVars) and its
    iterations; where asked for, every optimizer variable read each way a user reads one."""

    weights: list[np.ndarray]
    state: list[Any]
    iterations: int
    reads: Held = field(default_factory=list)

    def values(self) -> list[np.ndarray]:
        return self.weights + [sv.value for sv in self.state]


def _fit_once(
    scope: Callable, setup: Setup, job: dict[str, Any], rows: slice = slice(None), reads_in: Any = None
) -> Fitted:
    """model.fit on the job's batch (its rows in the order `rows` takes them) within `scope`,
    compiled with jit_compile=True where the job says so; `reads_in`: the group whose every way
    of reading (Group.reads) the optimizer's variables are read in afterwards."""
    a = adapter()
    xla = job.get("jit_compile", False)
    with scope():
        with a.keras_call(f"constructing {setup.code}"):
            opt = setup.build()
        model = a.dense_model(job["kernel"], job["bias"], job["dtype"], opt, jit_compile=xla)
        if xla and not getattr(model, "jit_compile", True):
            # Keras warns and compiles without XLA where a layer cannot: nothing would be claimed about XLA.
            raise Unsupported("model.compile(jit_compile=True) turned XLA off for the model (model.jit_compile False)")
        a.fit(model, job["x"][rows], job["y"][rows], job["epochs"], batch_size=len(job["x"]))
        fitted = Fitted(a.model_weights(model), a.state(opt), a.iterations(opt))
    if reads_in is not None:
        fitted.reads = list(zip([sv.path for sv in fitted.state], reads_in.reads(a.optimizer_variables(opt))))
    return fitted


def _spread(one: Fitted, other: Fitted) -> list[np.ndarray]:
    """|one - other| for the weights and every state variable, in Fitted.values' order."""
    return [np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)) for x, y in zip(one.values(), other.values())]


def _compare_fits(fitted: Fitted, one: Fitted, job: dict[str, Any], slack: list | None) -> Comparison:
    """The replicated fit against the one-device fit, allowed the dtype's bound plus `slack` (per
    array, Fitted.values' order; none: nothing on top)."""
    slack = slack or [0.0] * len(one.values())
    cmp = Comparison(job["dtype"], ("replicated fit", "one-device fit"), steps=job["epochs"])
    for i, (w, w1, w0) in enumerate(zip(fitted.weights, one.weights, (job["kernel"], job["bias"]))):
        cmp.close(f"model weight {i}", w, w1, w0, slack[i])
    if [sv.name for sv in fitted.state] != [sv.name for sv in one.state]:
        cmp.differ("optimizer variables", [sv.name for sv in fitted.state], [sv.name for sv in one.state])
    else:
        for sv, sv1, extra in zip(fitted.state, one.state, slack[len(one.weights) :]):
            cmp.close(sv.name, sv.value, sv1.value, np.zeros_like(sv1.value), extra)
    if fitted.iterations != one.iterations:
        cmp.differ("iterations", fitted.iterations, one.iterations)
    return cmp


def fit(groups: Any, job: dict[str, Any]) -> dict[str, Any]:
    """model.fit on the global batch, replicated, equals model.fit on one device (both compiled
    with jit_compile=True where the job says so); with `reads`, every read of every optimizer
    variable afterwards equals the one the comparison used.

    The replicas' gradients are float32 sums over their rows, added up across replicas: the same
    sum as on one device in another order. How much the fit moves with that order is measured on
    one device with the rows reversed, and INPUT_ROUNDINGS times that is allowed on top of the
    dtype's bound, as the teacher-forced claims allow their inputs' rounding (measured only where
    the fits differ by more than the dtype's bound: a third fit is the costliest part)."""
    group = groups.group(job["n"])
    setup = setup_of(job)
    try:
        fitted = _fit_once(group.scope, setup, job, reads_in=group if job.get("reads") else None)
    except ClaimFailed as e:  # Keras refused the replicated fit: the finding, without TensorFlow's stack
        raise _failed(_short(str(e)), compiled=True, steps=job["epochs"]) from None
    one = _fit_once(nullcontext, setup, job)
    cmp = _compare_fits(fitted, one, job, None)
    if cmp.failed:
        reordered = _fit_once(nullcontext, setup, job, slice(None, None, -1))
        cmp = _compare_fits(fitted, one, job, [s * tolerance.INPUT_ROUNDINGS for s in _spread(one, reordered)])
    agree = Comparison(job["dtype"], ("this", "the first"))
    _agree(agree, job["epochs"] - 1, fitted.reads)
    problems = []
    if cmp.failed:
        problems.append(
            f"model.fit under {group.describe} differs from model.fit on one device, same global batch of "
            f"{len(job['x'])} ({cmp.summary()}; allowed: the dtype's bound plus {tolerance.INPUT_ROUNDINGS}x "
            f"how far one-device fit moves when its rows are reversed):\n{cmp.report()}"
        )
    if agree.failed:
        problems.append(
            f"after model.fit under {group.describe}, replicas hold different values (or a way of reading "
            f"returns another):\n{agree.report()}"
        )
    if problems:
        raise _failed("\n".join(problems), compiled=True, steps=job["epochs"])
    return {"devices": group.devices}


def step(group: Any, job: dict[str, Any]) -> dict[str, Any]:
    """One eager step of the drawn optimizer from given weights and state (another backend's)."""
    return {**equivalence.take_step(setup_of(job), job), "devices": group.devices}


def call(group: Any, job: dict[str, Any]) -> dict[str, Any]:
    """A function of the suite run here (`isolated.call`): its value."""
    from conformance.distributed.isolated import function_named

    return {"value": function_named(job["function"])(*job["args"]), "devices": group.devices}


JOBS = {"replicas": replicas, "manual": manual, "fit": fit, "step": step, "call": call}


def run(groups: Any, job: dict[str, Any]) -> Any:
    return JOBS[job["job"]](groups, job)
