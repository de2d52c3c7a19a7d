"""Dynamic loss scaling (LossScaleOptimizer docs): "if a nonfinite gradient is encountered, the
loss scale is halved, and the train step is skipped"; "after every dynamic_growth_steps steps
with finite gradients, the loss scale is doubled". Run with every optimizer inside it."""

from dataclasses import replace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive, equivalence
from conformance.checks.claims import claim
from conformance.checks.pairing import COUNTERS
from conformance.core.compare import Comparison, Mismatch
from conformance.inputs.catalogue import loss_scaled
from conformance.inputs.strategies import FLOAT32, cases

SOURCE = "Keras docs: LossScaleOptimizer (keras.io/api/optimizers/loss_scale_optimizer/)"


@st.composite
def scaled_run(draw, spec):
    """A case inside a LossScaleOptimizer, and its steps with some gradients made non-finite."""

    def configure(draw, setup):
        # Without gradient accumulation, whose micro-steps are steps of their own kind.
        setup = setup.vary(opts=replace(setup.opts, gradient_accumulation_steps=None))
        own = {"initial_scale": 2.0 ** draw(st.integers(0, 15), label="log2 initial_scale"),
               "dynamic_growth_steps": draw(st.integers(1, 3), label="dynamic_growth_steps")}
        return loss_scaled(setup, own)

    case = draw(cases(spec, FLOAT32, min_steps=2, max_steps=6, configure=configure), label="case")
    steps = []
    for t, grads in enumerate(case.grads):
        grads = [g.copy() for g in grads]
        if draw(st.booleans(), label=f"step {t + 1} non-finite"):
            i = draw(st.integers(0, len(grads) - 1), label="variable")
            flat = grads[i].reshape(-1)
            flat[draw(st.integers(0, flat.size - 1), label="element")] = draw(
                st.sampled_from([np.nan, np.inf, -np.inf]), label="value"
            )
        steps.append(grads)
    return case, steps


def _finite(grads) -> bool:
    return all(np.all(np.isfinite(g)) for g in grads)


@claim(
    "loss_scale.dynamic_scale",
    "Inside a LossScaleOptimizer the loss scale starts at initial_scale, is halved after a step "
    "with a non-finite gradient, and is doubled after every dynamic_growth_steps consecutive "
    "steps with finite gradients.",
    SOURCE,
)
@given(data=st.data())
def test_dynamic_scale(spec, data):
    case, steps = data.draw(scaled_run(spec), label="run")
    a = adapter()
    opt, vars_ = drive.fresh(case)
    own = case.setup.extra
    scale, finite_in_a_row = float(own["initial_scale"]), 0
    for t, grads in enumerate(steps):
        if t == 0 and a.loss_scale(opt) != scale:
            equivalence.fail(
                case,
                [],
                f"the loss scale before the first step is {a.loss_scale(opt)}, not initial_scale={scale}",
                None,
            )
        drive.run(opt, vars_, [grads])
        if _finite(grads):
            finite_in_a_row += 1
            if finite_in_a_row == own["dynamic_growth_steps"]:
                scale, finite_in_a_row = scale * 2, 0
        else:
            scale, finite_in_a_row = scale / 2, 0
        if a.loss_scale(opt) != scale:
            equivalence.fail(
                case,
                steps[: t + 1],
                f"after step {t + 1} ({'finite' if _finite(grads) else 'non-finite'} gradients) "
                f"the loss scale is {a.loss_scale(opt)}, expected {scale}",
                None,
                check="print('loss scale:', float(keras.ops.convert_to_numpy(opt.scale_loss(1.0))))",
            )


@claim(
    "loss_scale.skips_nonfinite",
    "Inside a LossScaleOptimizer a step with a non-finite gradient changes no weight and no state "
    "of the inner optimizer (its iterations included); a finite step advances iterations by one.",
    SOURCE,
)
@given(data=st.data())
def test_skips_nonfinite(spec, data):
    case, steps = data.draw(scaled_run(spec), label="run")
    opt, vars_ = drive.fresh(case, slots=True)
    before = drive.snapshot(opt, vars_)
    cmp = Comparison(case.dtype, ("after", "before"))
    for t, grads in enumerate(steps):
        after = drive.run(opt, vars_, [grads])[0]
        if _finite(grads):
            if after.iterations != before.iterations + 1:
                cmp.mismatches.append(
                    Mismatch(
                        f"step {t + 1} (finite) optimizer.iterations", (), after.iterations, before.iterations + 1, 0
                    )
                )
        else:
            if after.iterations != before.iterations:
                cmp.mismatches.append(
                    Mismatch(f"step {t + 1} (skipped) optimizer.iterations", (), after.iterations, before.iterations, 0)
                )
            for i, (w1, w0) in enumerate(zip(after.weights, before.weights)):
                cmp.equal(f"step {t + 1} (skipped) weight v{i}", w1, w0)
            for s1, s0 in zip(after.state, before.state):
                if s0.name not in adapter().LOSS_SCALE_STATE and s0.name not in COUNTERS:
                    cmp.equal(f"step {t + 1} (skipped) {s0.name}", s1.value, s0.value)
        if cmp.failed:
            equivalence.fail(
                case,
                steps[: t + 1],
                "a LossScaleOptimizer step with a non-finite gradient was not skipped",
                cmp,
                build_first=True,
            )
        before = after
