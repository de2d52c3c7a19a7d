"""Bad state input (the Keras optimizers docs' set_weights): too few or too many arrays, wrong shapes, wrong
dtypes, an optimizer not yet built, non-finite values. The claim: a ValueError or TypeError is
raised before anything is written, and the optimizer's state is unchanged afterwards."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive
from conformance.checks.claims import SOURCES, claim
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed, OptimizerRaised
from conformance.inputs.strategies import FLOAT32, cases

KINDS = ("too_few", "too_many", "wrong_shape", "wrong_dtype", "nonfinite", "unbuilt")


def corrupt(values: list[np.ndarray], kind: str, index: int) -> list[np.ndarray]:
    """The optimizer's own state values, spoiled in one way at position `index`."""
    out = [np.array(v) for v in values]
    i = index % len(out)
    if kind == "too_few":
        return out[:-1]
    if kind == "too_many":
        return out + [np.zeros_like(out[-1])]
    if kind == "wrong_shape":
        out[i] = np.zeros(out[i].shape + (2,), out[i].dtype)
    elif kind == "wrong_dtype":
        out[i] = np.full(out[i].shape, "x")
    elif kind == "nonfinite":
        out[i] = np.full(out[i].shape, np.nan, np.float64).astype(out[i].dtype) if out[i].dtype.kind == "f" else out[i]
        if out[i].dtype.kind != "f":  # an integer counter cannot hold NaN: spoil a float one instead
            j = next((j for j, v in enumerate(out) if v.dtype.kind == "f"), i)
            out[j] = np.full(out[j].shape, np.nan, out[j].dtype) if out[j].dtype.kind == "f" else out[j]
    return out


def check(spec, data, mechanism: str, kind: str) -> None:
    case = data.draw(cases(spec, FLOAT32, max_steps=2), label="case")
    index = data.draw(st.integers(0, 50), label="index")
    a = adapter()
    opt, vars_ = drive.fresh(case)
    drive.run(opt, vars_, case.grads)
    good = [sv.value for sv in a.state(opt)]
    bad = corrupt(good, kind, index)
    target, target_vars = (drive.fresh(case) if kind == "unbuilt" else (opt, vars_))
    before = drive.snapshot(target, target_vars)
    what = f"{mechanism} with {kind} state (optimizer has {len(good)} variables, given {len(bad)})"
    try:
        a.load_values(target, mechanism, bad)
        raised = None
    except OptimizerRaised as e:
        raised = e.__cause__
    after = drive.snapshot(target, target_vars)
    cmp = Comparison(case.dtype, ("after", "before"))
    for b, c in zip(before.state, after.state):
        cmp.equal(b.name, c.value, b.value)
    problems = []
    if raised is None:
        problems.append("no error was raised")
    elif not isinstance(raised, (ValueError, TypeError)):
        problems.append(f"raised {type(raised).__name__} ({str(raised)[:200]}), not ValueError/TypeError")
    if cmp.failed:
        problems.append(f"the state changed: {cmp.report(3)}")
    if problems:
        raise ClaimFailed(
            f"{what}: " + "; ".join(problems),
            reproducer=f"{a.REPRO_HEADER}opt = {case.setup.code}\n# build it, then call {mechanism} with {kind} values",
        )


def _claim(mechanism: str, how: str, kind: str):
    @claim(
        f"state.bad_input.{mechanism}.{kind}",
        f"Restoring state with {how} given {kind.replace('_', ' ')} values raises ValueError or "
        "TypeError before anything is written, and leaves the optimizer's state unchanged.",
        SOURCES["OPTIMIZER_DOCS"] + " (set_weights: 'weight values as a list of numpy arrays')",
    )
    @given(data=st.data())
    def test(spec, data):
        check(spec, data, mechanism, kind)

    test.__name__ = f"test_bad_input_{mechanism}_{kind}"
    return test


HOW = {"set_weights": "optimizer.set_weights(values)", "own_variables": "optimizer.load_own_variables(store)"}
for _mechanism, _how in HOW.items():
    for _kind in KINDS:
        _test = _claim(_mechanism, _how, _kind)
        globals()[_test.__name__] = _test
