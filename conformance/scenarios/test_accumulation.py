"""Gradient accumulation (Keras docs: gradient_accumulation_steps=k): model and optimizer
variables change only every k steps, by one step of the same optimizer without accumulation on
the mean of the k gradients, weight decay and EMA included; "EMA frequency will look at
accumulated iterations (optimizer steps // k), learning rate schedules at real iterations"."""

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive, equivalence
from conformance.checks.claims import BASE_DOCS, claim
from conformance.checks.equivalence import Expected
from conformance.checks.trajectory import rounding
from conformance.core.compare import Comparison, Mismatch
from conformance.inputs.learning_rates import LearningRate
from conformance.inputs.options import Options
from conformance.inputs.strategies import FLOAT32, cases

ACCUMULATOR = "gradient_accumulator"


def _configure(draw, setup):
    opts = setup.opts
    return setup.vary(opts=Options(
        gradient_accumulation_steps=draw(st.integers(2, 3), label="gradient_accumulation_steps"),
        weight_decay=opts.weight_decay,
        use_ema=opts.use_ema,
        ema_momentum=opts.ema_momentum,
    ))


@claim(
    "options.gradient_accumulation",
    "With gradient_accumulation_steps=k, the weights and optimizer state stay unchanged for k - 1 "
    "steps; the k-th equals one step of the same optimizer without accumulation on the mean of the "
    "k gradients (weight decay and EMA included, the learning rate at the real step count), after "
    "which optimizer.iterations has advanced by one and the accumulators are zero.",
    f"{BASE_DOCS}: gradient_accumulation_steps",
)
@given(data=st.data())
def test_gradient_accumulation(spec, data):
    case = data.draw(cases(spec, FLOAT32, min_steps=3, max_steps=6, configure=_configure), label="case")
    k = case.setup.opts.gradient_accumulation_steps
    # A LossScaleOptimizer counts every call towards growing its scale: that is the wrapper's, not
    # the accumulating optimizer's state (the loss_scale claims judge it).
    scale_state = adapter().LOSS_SCALE_STATE
    steps = case.grads[: len(case.grads) // k * k]
    opt, vars_ = drive.fresh(case, slots=True)
    cmp = Comparison(case.dtype, equivalence.LABELS)
    start = drive.snapshot(opt, vars_)
    for j, grads in enumerate(steps):
        after = drive.run(opt, vars_, [grads])[0]
        if after.iterations != (j + 1) // k:
            cmp.mismatches.append(Mismatch(f"step {j + 1} optimizer.iterations", (), after.iterations, (j + 1) // k, 0))
        if (j + 1) % k:
            # A micro-step: nothing but the accumulators (and the counters) may change.
            now, then = equivalence.keyed(after), equivalence.keyed(start)
            for key, value in then.items():
                if not str(key[0]).endswith(ACCUMULATOR) and key[0] not in scale_state:
                    cmp.equal(
                        f"step {j + 1} " + (f"weight v{key[1]}" if key[0] == "weight" else key[0]), now[key], value
                    )
        else:
            group = steps[j + 1 - k : j + 1]
            mean, scale = equivalence.mean([drive.as_dtype(g, case.dtype) for g in group])
            lr = LearningRate("constant", {"value": rounding(case.dtype)(case.setup.lr.value(j))})
            plain = case.setup.vary(opts=replace(case.setup.opts, gradient_accumulation_steps=None), lr=lr)
            exp = Expected(
                plain,
                start.weights,
                mean,
                start,
                f"the mean of the last {k} gradients, learning rate {lr.value(0)!r}",
                forced={"iteration": j // k},
                grad_scale=scale,
                ignore=scale_state,
            )
            equivalence.check_step(cmp, j, after, exp, case.dtype)
            for sv in after.state:
                if sv.name.endswith(ACCUMULATOR) and sv.value.any():
                    cmp.differ(f"step {j + 1} {sv.name} after the update", sv.value.tolist(), "zeros")
            start = after
        if cmp.failed:
            equivalence.fail(
                case,
                steps[: j + 1],
                f"gradient accumulation over {k} steps is not as documented (step {j + 1})",
                cmp,
                build_first=True,
            )
