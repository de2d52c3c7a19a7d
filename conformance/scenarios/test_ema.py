"""Exponential moving average of the weights (Keras docs: use_ema, ema_momentum,
ema_overwrite_frequency, finalize_variable_values): the average follows its documented formula,
the weights follow the optimizer without EMA until they are overwritten by their averages; the
SwapEMAWeights callback evaluates on the averages and gives the weights back."""

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive, equivalence
from conformance.checks.claims import BASE_DOCS, claim
from conformance.checks.equivalence import Expected
from conformance.checks.reproducer import array_code
from conformance.checks.trajectory import rounding
from conformance.core import profiles
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed, OptimizerRaised, UserCodeRaised
from conformance.inputs.catalogue import Setup
from conformance.inputs.options import Options
from conformance.inputs.strategies import FLOAT32, Case, cases

SOURCE = f"{BASE_DOCS}: use_ema, ema_momentum, ema_overwrite_frequency; Optimizer.finalize_variable_values"


def _configure(overwrite: bool):
    def configure(draw, setup):
        return setup.vary(opts=Options(
            use_ema=True,
            ema_momentum=draw(st.floats(0.0, 1.0), label="ema_momentum"),
            ema_overwrite_frequency=draw(st.integers(1, 3), label="ema_overwrite_frequency") if overwrite else None,
        ))

    return configure


def averages(snap: drive.Snapshot) -> list[np.ndarray]:
    """Each weight's moving average (the first optimizer variable named v<i>_average)."""
    found = {}
    for sv in snap.state:
        found.setdefault(sv.name, sv.value)
    missing = [f"v{i}_average" for i in range(len(snap.weights)) if f"v{i}_average" not in found]
    if missing:
        raise ClaimFailed(
            f"use_ema=True but the optimizer has no variables {missing}; it has {[sv.path for sv in snap.state]}"
        )
    return [found[f"v{i}_average"] for i in range(len(snap.weights))]


def _check(case) -> None:
    opts = case.setup.opts
    m = rounding(case.dtype)(opts.ema_momentum)
    freq = opts.ema_overwrite_frequency
    plain = case.setup.vary(opts=Options())

    def overwrites(t: int) -> bool:
        return bool(freq) and (t + 1) % freq == 0

    def plan(t, before, grads):
        return Expected(
            plain,
            before.weights,
            grads,
            before,
            "the same gradients (EMA does not change the update)",
            check_weights=not overwrites(t),
        )

    def also(cmp, t, before, after, got):
        new = averages(after)
        old = averages(before) if t else [None] * len(new)
        for i, (avg, prev) in enumerate(zip(new, old)):
            w = got.weights[i] if overwrites(t) else after.weights[i]
            # The docs give no first average; the standard choice is the first value averaged.
            want = w if prev is None else m * prev.astype(np.float64) + (1 - m) * w.astype(np.float64)
            cmp.close(f"step {t + 1} v{i}_average", avg, want, w if prev is None else prev)
            if overwrites(t):
                cmp.equal(f"step {t + 1} weight v{i} (to be overwritten by its average)", after.weights[i], avg)

    equivalence.check(case, plan, "the moving average of the weights is not as documented", also=also)


@claim(
    "options.ema.average",
    "With use_ema, after every step each weight's average is ema_momentum * average + "
    "(1 - ema_momentum) * weight (the first average being the weight), and the weights follow the "
    "optimizer without EMA.",
    SOURCE,
)
@given(data=st.data())
def test_ema_average(spec, data):
    _check(data.draw(cases(spec, FLOAT32, configure=_configure(False)), label="case"))


@claim(
    "options.ema.overwrite",
    "With use_ema and ema_overwrite_frequency=f, after every f-th step the weights are overwritten "
    "by their moving averages; in between they follow the optimizer without EMA.",
    SOURCE,
)
@given(data=st.data())
def test_ema_overwrite(spec, data):
    _check(data.draw(cases(spec, FLOAT32, min_steps=2, configure=_configure(True)), label="case"))


@claim(
    "options.ema.finalize",
    "With use_ema, optimizer.finalize_variable_values(variables) after k steps sets every weight "
    "to its moving average.",
    SOURCE,
)
@given(data=st.data())
def test_ema_finalize(spec, data):
    case = data.draw(cases(spec, FLOAT32, configure=_configure(False)), label="case")
    a = adapter()
    opt, vars_ = drive.fresh(case)
    last = drive.run(opt, vars_, case.grads)[-1]
    a.finalize(opt, vars_)
    cmp = Comparison(case.dtype, ("after finalize", "average"))
    for i, (w, avg) in enumerate(zip(a.values(vars_), averages(last))):
        cmp.equal(f"weight v{i}", w, avg)
    if cmp.failed:
        equivalence.fail(
            case,
            case.grads,
            "finalize_variable_values did not set the weights to their moving averages",
            cmp,
            check="opt.finalize_variable_values(variables)\n# expected: each variable equals its v<i>_average",
        )


SWAP_SOURCE = (
    "Keras docs: keras.callbacks.SwapEMAWeights (keras.io/api/callbacks/swap_ema_weights/: 'replaces the model's "
    "weight values with the values of the optimizer's EMA weights ... before model evaluation, and restores the "
    f"previous weights after evaluation'); {BASE_DOCS}: use_ema, ema_momentum"
)
SWAP = "SwapEMAWeights around model.evaluate: "
# One batch for model.evaluate; the holder model's output ignores its weights: the adapter reports
# the weights the model held while it evaluated.
EVAL_X = np.zeros((1, 1))


def _swap_configure(draw: st.DrawFn, setup: Setup) -> Setup:
    # 0.5 first: the fixed conditions take the first alternative, where averages and weights differ.
    m = draw(st.one_of(st.just(0.5), st.floats(0.0, 1.0)), label="ema_momentum")
    return setup.vary(opts=Options(use_ema=True, ema_momentum=m))


def _swap_script(case: Case, built: bool) -> str:
    """A standalone script: the case's weights in a model, evaluated with SwapEMAWeights before the
    first step and after each of its steps, printing what evaluation used and what was expected."""
    d = adapter().REPRO
    m = case.setup.opts.ema_momentum
    numpy = d.numpy.format(x="v")
    lines = [
        d.header,
        *([case.setup.imports] if case.setup.imports else []),
        "",
        "",
        "class Holder(keras.layers.Layer):  # holds the weights; its output does not depend on them",
        "    def __init__(self, values):",
        "        super().__init__()",
        "        self.held = [self.add_weight(shape=np.shape(x), initializer='zeros', name=f'v{i}')",
        "                     for i, x in enumerate(values)]",
        "        for v, x in zip(self.held, values):",
        f"            v.assign(np.asarray(x, dtype={case.dtype!r}))",
        "",
        "    def call(self, x):",
        "        return x",
        "",
        "",
        "class Seen(keras.callbacks.Callback):",
        "    def on_test_batch_end(self, batch, logs=None):",
        f"        print('  evaluation used:', [{numpy} for v in self.model.trainable_variables])",
        "",
        "",
        "def evaluate(expected):",
        "    print('  expected:       ', [np.asarray(x, np.float32) for x in expected])",
        "    try:",
        "        model.evaluate(np.zeros((1, 1)), np.zeros((1, 1)), verbose=0,",
        "                       callbacks=[keras.callbacks.SwapEMAWeights(), Seen()])",
        "    except Exception as e:",
        "        print('  raised', type(e).__name__, e)",
        "",
        "",
        f"opt = {case.setup.code}",
        "layer = Holder([" + ", ".join(array_code(w) for w in case.weights) + "])",
        "inputs = keras.Input((1,))",
        "model = keras.Model(inputs, layer(inputs))",
        "model.compile(optimizer=opt, loss='mse')",
        *(["opt.build(layer.held)"] if built else []),
        f"initial = [{numpy} for v in layer.held]",
        "print('before the first step (the averages are the initial weights):')",
        "evaluate(initial)",
        f"print('  weights after evaluation:', [{numpy} for v in layer.held], '(expected: the initial weights)')",
        "gradients = [",
        *["    [" + ", ".join(array_code(g) for g in step) + "]," for step in case.grads],
        "]",
        f"m, average = {m!r}, None",
        "for t, grads in enumerate(gradients, 1):",
        f"    scale = {d.scale}  # gradients of opt.scale_loss(loss)",
        f"    opt.apply_gradients(zip([{d.tensor.format(x='g * scale', dtype='v.dtype')} "
        "for g, v in zip(grads, layer.held)], layer.held))",
        f"    raw = [{numpy} for v in layer.held]",
        "    # documented: average = ema_momentum * average + (1 - ema_momentum) * weight, the first the weight",
        "    average = raw if average is None else [m * a + (1 - m) * w for a, w in zip(average, raw)]",
        "    print(f'after step {t}:')",
        "    evaluate(average)",
        f"    after = [{numpy} for v in layer.held]",
        "    print('  raw weights restored:', all(np.array_equal(a, w) for a, w in zip(after, raw)), after, raw)",
    ]
    return "\n".join(lines)


def _evaluate(model: Any, vars_: list[Any]) -> tuple[list[np.ndarray] | None, OptimizerRaised | None, list[np.ndarray]]:
    """The weights model.evaluate used with SwapEMAWeights (or what Keras raised), and those after it."""
    a = adapter()
    try:
        seen, raised = a.evaluate_swapping_ema(model, EVAL_X, EVAL_X), None
    except UserCodeRaised:
        raise
    except OptimizerRaised as e:  # reported with the other findings, which the later steps still check
        seen, raised = None, e
    return seen, raised, a.values(vars_)


def _check_swap(case: Case, built: bool) -> None:
    a = adapter()
    m = rounding(case.dtype)(case.setup.opts.ema_momentum)
    opt = drive.construct(case)
    model, vars_ = a.model_holding(case.weights, case.dtype, opt)
    if built:
        a.build(opt, vars_)
    first = Comparison(case.dtype, ("evaluated on", "initial weights"))
    averaged = Comparison(case.dtype, ("evaluated on", "moving average"))
    restored = Comparison(case.dtype, ("after evaluation", "raw weights"))
    # The same within a few roundings of weight + average: what swapping them by addition costs.
    nearly = Comparison(case.dtype, ("after evaluation", "raw weights"))
    raw = a.values(vars_)
    seen, raised_first, after = _evaluate(model, vars_)
    for i, w in enumerate(raw):
        if seen is not None:
            first.close(f"before the first step, v{i}", seen[i], w, w)
        restored.equal(f"before the first step, v{i}", after[i], w)
        nearly.close(f"before the first step, v{i}", after[i], w, w if seen is None else np.abs(seen[i]))
    previous = None  # the averages the last evaluation used (teacher forcing: errors do not add up)
    step_raised: tuple[int, OptimizerRaised] | None = None
    for t, grads in enumerate(case.grads, 1):
        a.apply(opt, grads, vars_)
        raw = a.values(vars_)
        seen, raised, after = _evaluate(model, vars_)
        if raised is not None:
            step_raised = (t, raised)
            break
        for i, (s, w) in enumerate(zip(seen, raw)):
            w64 = w.astype(np.float64)
            if previous is None:
                want, scale = w64, w64
            else:
                p = previous[i].astype(np.float64)
                want, scale = m * p + (1 - m) * w64, np.maximum(np.abs(p), np.abs(w64))
            # Scaled by weight and average both: swapping them in place may round to either's size.
            averaged.close(f"after step {t}, v{i}", s, want, scale)
            restored.equal(f"after step {t}, v{i}", after[i], w)
            nearly.close(f"after step {t}, v{i}", after[i], w, np.maximum(np.abs(s), np.abs(w64)))
        previous = seen
    found = []
    if averaged.failed:
        found.append(("evaluation after a step did not use the moving averages", averaged))
    if restored.failed:
        by = "by up to a few roundings of weight + average" if not nearly.failed else "by more than a rounding"
        found.append((f"after evaluation the weights are not the raw weights training left, {by}", restored))
    if step_raised is not None:
        found.append((f"after step {step_raised[0]}, {step_raised[1]}", None))
    if raised_first is not None:
        found.append((f"before the first step, {raised_first}", None))
    elif first.failed:
        found.append(("before the first step, evaluation did not use the initial weights (the averages then)", first))
    if found:
        details = "".join(f"\n\n{what} ({cmp.summary()}):\n{cmp.report()}" for what, cmp in found if cmp)
        raise ClaimFailed(SWAP + "; ".join(what for what, _ in found) + details, reproducer=_swap_script(case, built))


@claim(
    "options.ema.swap_callback",
    "With use_ema, model.evaluate with keras.callbacks.SwapEMAWeights evaluates on the moving averages of the "
    "weights (before the first step: the initial weights; after each step: ema_momentum * average + "
    "(1 - ema_momentum) * weight, the first average being the weight), and afterwards the model holds its raw "
    "weights again, bit for bit, so training resumes from them.",
    SWAP_SOURCE,
)
@profiles.costly(3)  # a compiled model.evaluate per step
@given(data=st.data())
def test_ema_swap_callback(spec, data):
    case = data.draw(cases(spec, FLOAT32, configure=_swap_configure), label="case")
    _check_swap(case, data.draw(st.booleans(), label="optimizer built before the first evaluation"))
