"""Distributed gradient aggregation (the Keras optimizers docs: apply_gradients "sums gradients from all replicas in
the presence of tf.distribute.Strategy"): N replicas, each given its own gradient, must update like
one device given the sum. The replicated side runs in worker processes (see conformance/distributed),
on the backend each mechanism needs, whatever backend the suite itself runs on.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks.claims import SOURCES, claim
from conformance.core import profiles, running
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed, Unsupported
from conformance.distributed import MAX_REPLICAS, host, jobs, scripts
from conformance.inputs.options import ONE, Options
from conformance.inputs.strategies import FLOAT32, cases, checking, moderate, replica_gradients

KERAS_DP = "Keras docs: keras.distribution.DataParallel (keras.io/api/distribution/)"
SUMS = SOURCES["OPTIMIZER_DOCS"] + " (apply_gradients sums gradients from all replicas)"
# kind -> (the replication, {compiled: how steps run}, source, the base options checked)
MECHANISMS = {
    "mirrored": (
        "tf.distribute.MirroredStrategy over N logical CPU devices (the GPUs where visible), "
        f"N from 2 to {MAX_REPLICAS}",
        {False: "strategy.run called eagerly", True: "strategy.run inside a tf.function"},
        SUMS,
        tuple(ONE),
    ),
    # Multi-worker runs the same Keras code as mirrored; options are checked there, at a tenth of the cost.
    "multi_worker": (
        "tf.distribute.MultiWorkerMirroredStrategy with 2 worker processes on 127.0.0.1 (N = 2)",
        {False: "strategy.run called eagerly", True: "strategy.run inside a tf.function"},
        SUMS,
        ("plain",),
    ),
    "data_parallel": (
        f"keras.distribution.DataParallel over N JAX devices (forced host devices, or the GPUs where visible), "
        f"N from 2 to {MAX_REPLICAS}, each replica's gradient one shard of a batch summed by XLA",
        {False: "optimizer.apply_gradients", True: "jax.jit(optimizer.stateless_apply)"},
        f"{KERAS_DP}; {SOURCES['OPTIMIZER_DOCS']}",
        # XLA sums before the optimizer runs, so options meet nothing replicated: drawn together.
        ("plain", "options"),
    ),
}
CLIPPING = ("clipnorm", "global_clipnorm", "clipvalue")
OPTION_TEXT = {
    "plain": "no base option",
    "options": "base options drawn together (clipping, weight decay, EMA, gradient accumulation)",
    "clipnorm": "clipnorm (below the largest replica gradient's norm)",
    "global_clipnorm": "global_clipnorm (below the largest replica's global norm)",
    "clipvalue": "clipvalue (below the largest replica gradient element)",
    "weight_decay": "weight_decay",
    "ema": "use_ema (mostly with ema_overwrite_frequency)",
    "gradient_accumulation": "gradient_accumulation_steps",
}
REPLICAS = {
    "mirrored": st.integers(2, MAX_REPLICAS),
    "data_parallel": st.integers(2, MAX_REPLICAS),
    "multi_worker": st.just(2),
}
# What distributed.mirrored.state_replicated draws: no base option, or use_ema (its averages are state)
# without ema_overwrite_frequency, whose overwrite cannot run in model.fit under a strategy.
STATE_OPTIONS = st.one_of(ONE["plain"], ONE["ema"].map(lambda o: replace(o, ema_overwrite_frequency=None)))
# Shared by every claim below; its examples are cheap once the worker runs, but each starts a strategy.
COSTLY = profiles.costly(5)


@pytest.fixture(autouse=True)
def _fresh_workers():
    """A worker broken by one claim is restarted for the next (never reused mid-test)."""
    yield
    host.forget_failures()


def _clip_size(option: str, grads: list) -> float:
    """The largest norm (or element) among the replicas' gradients that `option` would clip."""

    def size(rep: list) -> float:
        if option == "clipvalue":
            return max((float(np.max(np.abs(g))) for g in rep if g.size), default=0.0)
        norms = [float(np.linalg.norm(g)) for g in rep]
        return max(norms, default=0.0) if option == "clipnorm" else float(np.linalg.norm(norms))

    return max(size(rep) for step in grads for rep in step)


def _draw_job(
    data: Any,
    spec: Any,
    option: str | Callable[[st.DrawFn, Any], Any] | None,
    replicas: st.SearchStrategy[int],
    built: bool,
    compiled: bool = False,
    max_steps: int = 4,
) -> tuple[Any, dict]:
    """A replicas job of up to `max_steps` steps; `option` names the base option drawn (OPTION_TEXT),
    or re-makes the drawn setup."""
    if callable(option):
        configure = option
    elif option in CLIPPING:  # the threshold is drawn below, relative to the replicas' gradients
        configure = lambda draw, s: s.vary(opts=Options())  # noqa: E731
    elif option in ONE:
        configure = lambda draw, s: s.vary(opts=draw(ONE[option], label=option))  # noqa: E731
    else:
        configure = None
    case = data.draw(
        cases(
            spec,
            FLOAT32,
            min_steps=3 if option == "gradient_accumulation" else 1,
            max_steps=max_steps,
            configure=configure,
        ),
        label="case",
    )
    n = data.draw(replicas, label="replicas")
    # Clipping the sum and summing clipped gradients agree where one replica's gradient is negligible.
    grads = data.draw(
        replica_gradients(
            [w.shape for w in case.weights], case.dtype, n, len(case.grads), MAX_REPLICAS, comparable=option in CLIPPING
        ),
        label="gradients",
    )
    if option in CLIPPING:
        # A threshold below the largest replica's gradient, so that clipping acts where it matters.
        fraction = data.draw(st.floats(0.05, 0.95), label=f"{option} as a fraction of the largest replica gradient's")
        case = replace(
            case, setup=case.setup.vary(opts=Options(**{option: fraction * (_clip_size(option, grads) or 1.0)}))
        )
    case = replace(case, grads=jobs.summed(grads))
    checking(case)  # the failure record shows what ran: the summed gradients per step
    job = {
        "spec": case.setup.spec,
        "code": case.setup.code,
        "imports": case.setup.imports,
        "dtype": case.dtype,
        "weights": case.weights,
        "replica_grads": grads,
        "n": n,
        "built": built,
        "compiled": compiled,
    }
    return case, job


def ask(kind: str, job: dict[str, Any], reproducer: Callable[[dict], str]) -> list[Any]:
    """Run `job` on every process of the `kind` worker; a failure carries `reproducer(context)`.
    Processes of one cluster must also end with the same bits."""
    a = adapter()
    if not a.DISTRIBUTED_WORKERS:
        # The workers rebuild the optimizer from the generation's reproducer code (conformance/distributed/jobs.py).
        raise Unsupported(f"the distributed workers cannot drive {a.GENERATION}")
    h = host.host(kind)
    answers = h.request(job)
    # Every worker's devices and versions, also on a failure; narrowed to the job's devices below.
    running.current().ran_on.update(kind=kind, devices=[r["devices"] for r in h.ready], versions=h.ready[0]["versions"])
    failed = [(i, a) for i, a in enumerate(answers) if "failed" in a]
    if failed:
        shown = (
            failed[0][1]["failed"]
            if len({a["failed"] for _, a in failed}) == 1
            else "\n".join(f"worker {i}: {a['failed']}" for i, a in failed)
        )
        raise ClaimFailed(shown, reproducer=reproducer(failed[0][1].get("context", {})))
    values = [host.outcome(a) for a in answers]
    running.current().ran_on["devices"] = [v["devices"] for v in values]
    cmp = Comparison(job["dtype"], ("worker i", "worker 0"))
    for i, other in enumerate(values[1:], 1):
        for k, (mine, theirs) in enumerate(zip(other.get("finals", []), values[0].get("finals", []))):
            cmp.equal(f"worker {i}: variable {k} after the last step", mine, theirs)
    if cmp.failed:
        raise ClaimFailed(
            f"the worker processes hold different values ({cmp.summary()}):\n{cmp.report()}",
            reproducer=reproducer({"compiled": job.get("compiled", False)}),
        )
    return values


def _script(kind: str, job: dict) -> Callable[[dict], str]:
    def make(ctx: dict) -> str:
        steps = ctx.get("steps", len(job["replica_grads"]))
        return (
            scripts.jax_steps(job, job["compiled"], steps)
            if kind == "data_parallel"
            else scripts.tf_steps(job, kind, job["compiled"], steps)
        )

    return make


def _replicas_claim(kind: str, option: str, built: bool, compiled: bool):
    where, modes, source, _ = MECHANISMS[kind]
    name = f"{kind}.{option if built else 'unbuilt'}.{'compiled' if compiled else 'eager'}"
    start = "a built optimizer" if built else "an optimizer that the first replicated step builds"

    @claim(
        f"distributed.{name}",
        f"Under {where}, each replica given its own gradient, with {OPTION_TEXT[option]}, starting from {start}, "
        f"steps run by {modes[compiled]}: after each step the weights and every state variable equal one "
        "single-device step run the same way given the sum of the replica gradients, the iteration counter "
        "advances like that step's (once per step, not once per replica), and every replica holds the same values.",
        source,
    )
    @COSTLY
    @given(data=st.data())
    def test(spec, data):
        _, job = _draw_job(data, spec, option, REPLICAS[kind], built, compiled)
        ask(kind, {**job, "job": "replicas"}, _script(kind, job))

    test.__name__ = "test_" + name.replace(".", "_")
    return test


for _kind, (_, _, _, _options) in MECHANISMS.items():
    for _compiled in (False, True):
        for _option in _options:
            _t = _replicas_claim(_kind, _option, True, _compiled)
            globals()[_t.__name__] = _t
        _t = _replicas_claim(_kind, "plain", False, _compiled)
        globals()[_t.__name__] = _t


@claim(
    "distributed.mirrored.manual_aggregation",
    "Under tf.distribute.MirroredStrategy, aggregating by hand (the caller all-reduces the gradients with "
    "SUM, then apply_gradients with aggregation switched off: experimental_aggregate_gradients=False or "
    "skip_gradients_aggregation=True) updates bit for bit like apply_gradients aggregating by itself (eager "
    "strategy.run).",
    SOURCES["OPTIMIZER_DOCS"] + " (apply_gradients: experimental_aggregate_gradients, and its all_reduce example)",
)
@COSTLY
@given(data=st.data())
def test_mirrored_manual_aggregation(spec, data):
    _, job = _draw_job(data, spec, None, st.integers(2, MAX_REPLICAS), True)

    def reproducer(ctx: dict) -> str:
        return scripts.tf_steps(job, "mirrored", False, len(job["replica_grads"]), manual=ctx.get("flags", {}))

    ask("mirrored", {**job, "job": "manual"}, reproducer)


@st.composite
def global_batch(draw: st.DrawFn, n: int) -> dict[str, Any]:
    """A Dense layer's weights and one global batch, n rows per replica, trained 1 or 2 epochs."""
    n_in, n_out, rows = (
        draw(st.integers(1, hi), label=k) for k, hi in (("inputs", 4), ("outputs", 3), ("rows per replica", 3))
    )
    return {
        "kernel": draw(moderate((n_in, n_out)), label="kernel"),
        "bias": draw(moderate((n_out,)), label="bias"),
        "x": draw(moderate((n * rows, n_in)), label="x"),
        "y": draw(moderate((n * rows, n_out)), label="y"),
        "epochs": draw(st.integers(1, 2), label="epochs"),
    }


def _fit_job(data: Any, setup: Any, n: int, **extra: Any) -> dict[str, Any]:
    """A fit job: `setup`'s optimizer trained on a drawn global batch of `n` replicas' rows."""
    return {
        "job": "fit",
        "spec": setup.spec,
        "code": setup.code,
        "imports": setup.imports,
        "dtype": "float32",
        "n": n,
        **data.draw(global_batch(n), label="data"),
        **extra,
    }


def _fit_setup(data: Any, spec: Any) -> Any:
    # No base option: each has its own claim above; fit claims are about fit's loss scaling.
    return data.draw(cases(spec, FLOAT32, max_steps=1, configure=lambda draw, s: s.vary(opts=Options())), label="case")


def _fit_claim(kind: str):
    where, _, source, _ = MECHANISMS[kind]

    @claim(
        f"distributed.{kind}.fit",
        f"model.fit under {where}, on a global batch split across the replicas (losses scaled as Keras "
        "documents: averaged over the global batch), leaves the same model weights, optimizer variables and "
        "iteration count as model.fit on one device with the same batch, within the tolerance of the steps taken.",
        source,
    )
    @profiles.costly(5)  # two compiled fits per example
    @given(data=st.data())
    def test(spec, data):
        job = _fit_job(data, _fit_setup(data, spec).setup, data.draw(REPLICAS[kind], label="replicas"))
        ask(kind, job, lambda ctx: scripts.fit(job, kind))

    test.__name__ = f"test_{kind}_fit"
    return test


test_mirrored_fit = _fit_claim("mirrored")
test_data_parallel_fit = _fit_claim("data_parallel")

AGGREGATION = (
    "github.com/keras-team/keras/issues/20568 and /issues/20601 (Keras 3.7 propagated each variable's "
    "aggregation to tf.Variable, and MirroredStrategy training turned to NaN), /pull/20703 (the fix: optimizer "
    "variables back to aggregation 'none', counters 'only_first_replica'), /issues/21061 (NaNs under "
    "MirroredStrategy in Keras 3)"
)


@claim(
    "distributed.mirrored.state_replicated",
    f"Under {MECHANISMS['mirrored'][0]}, after each step (apply_gradients in strategy.run called eagerly, "
    "from a built optimizer; and after model.fit, which runs its steps in a tf.function), every optimizer "
    "variable (slots, the EMA averages of use_ema, iterations, the learning rate, a LossScaleOptimizer's scale "
    "and step counter) reads "
    "the same however a user reads it: keras.ops.convert_to_numpy(v) and v.numpy() outside and inside "
    "strategy.scope(), each replica's copy (strategy.experimental_local_results) and each replica's read inside "
    "strategy.run; and that value is finite and equals the one-device value (the single-device step given the "
    "summed gradients; model.fit on one device): a variable's aggregation never makes a read a sum over "
    "replicas, one replica's copy, or NaN. (Gradient accumulators are distributed.mirrored.gradient_accumulation"
    ".*'s, whose replicas' copies already disagree; ema_overwrite_frequency cannot run in model.fit under a "
    "strategy, distributed.mirrored.ema.compiled.)",
    f"{SUMS}; GitHub issues: {AGGREGATION}",
)
@COSTLY
@given(data=st.data())
def test_mirrored_state_replicated(spec, data):
    # Eager steps, two at most: model.fit below runs them in a tf.function, and each step is judged.
    configure = lambda draw, s: s.vary(opts=draw(STATE_OPTIONS, label="options"))  # noqa: E731
    case, job = _draw_job(data, spec, configure, REPLICAS["mirrored"], True, max_steps=2)
    job = {**job, "reads": True}
    ask("mirrored", {**job, "job": "replicas"}, _script("mirrored", job))
    fitted = _fit_job(data, case.setup, job["n"], reads=True)
    ask("mirrored", fitted, lambda ctx: scripts.fit(fitted, "mirrored"))


@claim(
    "distributed.mirrored.jit_compile",
    f"model.fit with model.compile(jit_compile=True) under {MECHANISMS['mirrored'][0]}, on a global batch split "
    "across the replicas, leaves the same model weights, optimizer variables and iteration count as the same "
    "fit (also jit_compile=True) on one device, as distributed.mirrored.fit defines the same; where Keras "
    "refuses, the verdict says what it raised.",
    "Keras docs: Model.compile's jit_compile ('Whether to use XLA compilation when compiling a model'); GitHub: "
    "github.com/keras-team/keras/issues/18145 (jit_compile=True does not work with MirroredStrategy), "
    "/issues/19005 ([Tensorflow] jit_compile failed with tf.distribute)",
)
@profiles.costly(5)  # two compiled fits per example
@given(data=st.data())
def test_mirrored_jit_compile(spec, data):
    n = data.draw(REPLICAS["mirrored"], label="replicas")
    job = _fit_job(data, _fit_setup(data, spec).setup, n, jit_compile=True)
    ask("mirrored", job, lambda ctx: scripts.fit(job, "mirrored"))
