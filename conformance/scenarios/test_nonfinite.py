"""Non-finite gradients: what a NaN or Inf in one gradient element does to weights and state."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from conformance.checks import drive
from conformance.checks.claims import SOURCES, claim
from conformance.checks.reproducer import script
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed, OptimizerRaised
from conformance.inputs.strategies import FLOAT32, cases


@claim(
    "nonfinite.weights_unchanged_or_raises",
    "A gradient holding NaN or Inf either raises an error or leaves every weight unchanged "
    "(LossScaleOptimizer documents that it skips such steps).",
    SOURCES["OPTIMIZER_DOCS"] + "; LossScaleOptimizer docs",
)
@given(data=st.data())
def test_nonfinite(spec, data):
    case = data.draw(cases(spec, FLOAT32, max_steps=1), label="case")
    bad = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]), label="value")
    var = data.draw(st.integers(0, len(case.weights) - 1), label="variable")
    grads = [g.copy() for g in case.grads[0]]
    flat = grads[var].reshape(-1)
    flat[data.draw(st.integers(0, flat.size - 1), label="element")] = bad
    grads[var] = flat.reshape(grads[var].shape)
    opt, vars_ = drive.fresh(case)
    before = drive.snapshot(opt, vars_)
    try:
        after = drive.run(opt, vars_, [grads])[0]
    except OptimizerRaised:
        return  # raising is one of the two allowed outcomes
    cmp = Comparison(case.dtype, ("after", "before"))
    for i, (a, b) in enumerate(zip(after.weights, before.weights)):
        cmp.equal(f"weight v{i}", a, b)
    if cmp.failed:
        broken = [sv.path for sv in after.state if not np.all(np.isfinite(sv.value.astype(np.float64)))]
        nonfinite_w = [f"v{i}" for i, w in enumerate(after.weights) if not np.all(np.isfinite(w.astype(np.float64)))]
        raise ClaimFailed(
            f"a gradient with {bad} in v{var} was applied without an error and changed the weights "
            f"({cmp.report(3)}); weights no longer finite: {nonfinite_w}; state no longer finite: {broken}",
            reproducer=script(case, [grads]),
        )
