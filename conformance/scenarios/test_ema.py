"""Exponential moving average of the weights (Keras docs: use_ema, ema_momentum,
ema_overwrite_frequency, finalize_variable_values): the average follows its documented formula,
the weights follow the optimizer without EMA until they are overwritten by their averages."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive, equivalence
from conformance.checks.claims import BASE_DOCS, claim
from conformance.checks.equivalence import Expected
from conformance.checks.trajectory import rounding
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed
from conformance.inputs.options import Options
from conformance.inputs.strategies import FLOAT32, cases

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
