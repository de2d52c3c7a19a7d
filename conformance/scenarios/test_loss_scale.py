"""Dynamic loss scaling (LossScaleOptimizer docs): "if a nonfinite gradient is encountered, the
loss scale is halved, and the train step is skipped"; "after every dynamic_growth_steps steps
with finite gradients, the loss scale is doubled". Run with every optimizer inside it. Also how the
wrapper hands gradients to the optimizer it wraps: the inner loss_scale_factor, variables that are
overwritten with their gradient, and apply(grads) without variables."""

from dataclasses import replace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive, equivalence
from conformance.checks.claims import claim
from conformance.checks.pairing import COUNTERS
from conformance.checks.reproducer import array_code, script
from conformance.core.compare import Comparison, Mismatch
from conformance.core.errors import Unsupported
from conformance.inputs.catalogue import Setup, loss_scaled
from conformance.inputs.strategies import FLOAT32, Case, cases

SOURCE = "Keras docs: LossScaleOptimizer (keras.io/api/optimizers/loss_scale_optimizer/)"


def _scaling(draw: st.DrawFn, setup: Setup) -> Setup:
    """`setup` inside a LossScaleOptimizer with a drawn initial_scale and dynamic_growth_steps."""
    # Without gradient accumulation, whose micro-steps are steps of their own kind.
    setup = setup.vary(opts=replace(setup.opts, gradient_accumulation_steps=None))
    own = {"initial_scale": 2.0 ** draw(st.integers(0, 15), label="log2 initial_scale"),
           "dynamic_growth_steps": draw(st.integers(1, 3), label="dynamic_growth_steps")}
    return loss_scaled(setup, own)


@st.composite
def scaled_run(draw, spec, max_steps=6):
    """A case inside a LossScaleOptimizer, and its steps with some gradients made non-finite."""
    case = draw(cases(spec, FLOAT32, min_steps=2, max_steps=max_steps, configure=_scaling), label="case")
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
                check=f"print('loss scale:', {a.REPRO.scale})",
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


def _with_inner_factor(draw: st.DrawFn, setup: Setup) -> Setup:
    """`_scaling`, the inner optimizer given a loss_scale_factor of its own: a power of two, so that
    scaling and unscaling are exact and any difference is the factor's doing."""
    a, inner = adapter(), setup.inner or setup
    with a.keras_call(f"constructing {inner.code}"):
        cls = type(inner.build())
    if "loss_scale_factor" not in a.accepted_options(cls):
        # The premise is missing, not broken: a constructor refusing the keyword is no finding.
        raise Unsupported(
            f"{cls.__module__}.{cls.__name__} (Keras {a.versions()['keras']}) takes no loss_scale_factor: "
            "an optimizer's own loss scale factor, this claim's premise, is not in its API"
        )
    factor = 2.0 ** draw(st.integers(1, 12), label="log2 inner loss_scale_factor")
    return _scaling(draw, setup.vary(extra={"loss_scale_factor": factor}))


@claim(
    "loss_scale.inner_scale_factor_once",
    "An inner optimizer's loss_scale_factor is applied once inside a LossScaleOptimizer: given the gradients "
    "of its scale_loss(loss), the wrapper takes the same steps as the inner optimizer alone given the "
    "gradients of its own scale_loss(loss) (each unscales the gradients by exactly what it scaled the loss by).",
    "Keras docs: Optimizer loss_scale_factor ('multiplied the loss before computing gradients, and the inverse "
    "... multiplied by the gradients'; 'LossScaleOptimizer will automatically set a loss scale factor') and "
    "LossScaleOptimizer (keras.io/api/optimizers/)",
)
@given(data=st.data())
def test_inner_scale_factor_once(spec, data):
    # Up to two steps, each run twice: with dynamic_growth_steps=1 the scale doubles between them.
    case = data.draw(cases(spec, FLOAT32, min_steps=1, max_steps=2, configure=_with_inner_factor), label="case")
    alone = replace(case, setup=case.setup.inner)
    a = adapter()
    opt, vars_ = drive.fresh(case)
    ref, ref_vars = drive.fresh(alone)
    cmp = Comparison(case.dtype, ("wrapped", "inner alone"))
    for t, grads in enumerate(case.grads):
        before = a.values(ref_vars)
        a.apply(opt, grads, vars_)
        a.apply(ref, grads, ref_vars)
        for i, (w1, w0, prev) in enumerate(zip(a.values(vars_), a.values(ref_vars), before)):
            cmp.close(f"step {t + 1} weight v{i}", w1, w0, prev)
        if a.iterations(opt) != a.iterations(ref):
            cmp.mismatches.append(
                Mismatch(f"step {t + 1} optimizer.iterations", (), a.iterations(opt), a.iterations(ref), 0, cmp.labels)
            )
        if cmp.failed:
            equivalence.fail(
                case,
                case.grads[: t + 1],
                f"at step {t + 1}, {case.setup.code} does not take the steps of {alone.setup.code} alone "
                f"(loss scales {a.loss_scale(opt)} and {a.loss_scale(ref)} after the step)",
                cmp,
                check="# the inner optimizer alone, given the gradients of its own scale_loss(loss):\n"
                + script(alone, case.grads[: t + 1]),
            )


@claim(
    "loss_scale.overwrite_with_gradient",
    "Inside a LossScaleOptimizer a variable with overwrite_with_gradient=True takes, at each step, the value "
    "of the gradient it is given (not unscaled by the loss scale, not an optimizer update), and iterations "
    "advances by one at each step, also when every variable is overwritten.",
    "Keras docs: Variable.overwrite_with_gradient ('overwrite the variable directly with its computed "
    "gradient', float8's scale and amax_history) and LossScaleOptimizer (keras.io/api/optimizers/)",
)
@given(data=st.data())
def test_overwrite_with_gradient(spec, data):
    # Finite gradients only: a non-finite step is skipped whole (loss_scale.skips_nonfinite).
    case = data.draw(cases(spec, FLOAT32, min_steps=2, max_steps=3, configure=_scaling), label="case")
    # Drawn as the variables left ordinary, so that the fixed conditions (which take the lower end
    # of every draw) flag every variable: the step then has no ordinary update at all. There, the
    # same steps also run with v0 left ordinary, as in a float8 layer (its kernel updated, its
    # scales overwritten): both cases are checked whatever the draw.
    n = len(case.weights)
    ordinary = data.draw(st.sets(st.integers(0, n - 1), max_size=n - 1), label="not overwrite_with_gradient")
    flagged = [i for i in range(n) if i not in ordinary]
    for arrangement in [flagged] + ([flagged[1:]] if len(flagged) == n > 1 else []):
        _overwritten_steps(case, arrangement)


def _overwritten_steps(case: Case, flagged: list[int]) -> None:
    """The case's steps on a new optimizer, variables `flagged` marked overwrite_with_gradient."""
    a = adapter()
    opt = drive.construct(case)
    vars_ = a.variables(case.weights, case.dtype)
    a.mark_overwrite_with_gradient([vars_[i] for i in flagged])  # before the optimizer builds, as a layer does
    cmp = Comparison(case.dtype, ("variable", "its gradient"))
    # The reproducer's loop multiplies every gradient by the loss scale: a flagged variable's is listed
    # divided by it (a power of two, so exactly), which gives it the gradient unscaled.
    shown = []
    for t, grads in enumerate(case.grads):
        scale, count = a.loss_scale(opt), a.iterations(opt)
        given = [g if i in flagged else np.asarray(g, np.float64) * scale for i, g in enumerate(grads)]
        shown.append([np.asarray(g, np.float64) / scale if i in flagged else g for i, g in enumerate(grads)])
        a.apply_as_given(opt, given, vars_)
        after = a.values(vars_)
        for i in flagged:
            cmp.equal(f"step {t + 1} weight v{i}", after[i], np.asarray(grads[i], np.float64).astype(after[i].dtype))
        if a.iterations(opt) != count + 1:
            where = f"step {t + 1} optimizer.iterations"
            cmp.mismatches.append(Mismatch(where, (), a.iterations(opt), count + 1, 0, ("keras", "expected")))
        if cmp.failed:
            equivalence.fail(
                case,
                shown,
                f"at step {t + 1} (loss scale {scale}), variables {', '.join(f'v{i}' for i in flagged)} with "
                "overwrite_with_gradient=True did not take their gradients' values, or iterations did not advance",
                cmp,
                prelude="\n".join(f"variables[{i}].overwrite_with_gradient = True" for i in flagged),
                check="print('expected:', "
                + ", ".join(f"'v{i}', {array_code(grads[i])}" for i in flagged)
                + f", 'iterations', {count + 1})",
            )


def _apply_without_variables_code(case: Case) -> str:
    """Reproducer lines: the same optimizer and variables, stepped through opt.apply(grads)."""
    d = adapter().REPRO
    return "\n".join(
        [
            "# the same steps through opt.apply(grads), no variables passed, on the same optimizer built the same way",
            f"opt = {case.setup.code}",
            "variables = [",
            *[
                f"    {d.variable.format(value=array_code(w), dtype=case.dtype, name=f'v{i}')},"
                for i, w in enumerate(case.weights)
            ],
            "]",
            d.build,
            "for grads in gradients:",
            f"    scale = {d.scale}",
            f"    opt.apply([{d.tensor.format(x='g * scale', dtype='v.dtype')} for g, v in zip(grads, variables)])",
            f"print('weights after apply(grads):', [{d.numpy.format(x='v')} for v in variables])",
            f"print('iterations:', int({d.numpy.format(x='opt.iterations')}))",
        ]
    )


@claim(
    "loss_scale.apply_without_variables",
    "opt.apply(grads) on a built LossScaleOptimizer, no variables passed, updates the variables it was built "
    "with exactly as apply(grads, variables) does: the same weights, state and iterations after every step, "
    "steps skipped for a non-finite gradient included.",
    "Keras docs: Optimizer.apply ('grads should be a list of gradient tensors with 1:1 mapping to the list of "
    "variables the optimizer was built with') and LossScaleOptimizer (keras.io/api/optimizers/)",
)
@given(data=st.data())
def test_apply_without_variables(spec, data):
    case, steps = data.draw(scaled_run(spec, max_steps=3), label="run")  # each step runs twice
    a = adapter()
    opt, vars_ = drive.fresh(case, build=True)
    ref, ref_vars = drive.fresh(case, build=True)
    got, want = [], []
    for grads in steps:
        a.apply_without_variables(opt, grads, case.dtype)
        got.append(drive.snapshot(opt, vars_))
        want.append(drive.run(ref, ref_vars, [grads])[0])
    cmp = Comparison(case.dtype, ("apply(grads)", "apply(grads, variables)"))
    for t, (g, w) in enumerate(zip(got, want)):
        if g.iterations != w.iterations:
            cmp.mismatches.append(
                Mismatch(f"step {t + 1} optimizer.iterations", (), g.iterations, w.iterations, 0, cmp.labels)
            )
    drive.compare_runs(cmp, got, want)
    if cmp.failed:
        equivalence.fail(
            case,
            steps,
            "apply(grads) without variables does not update the variables the LossScaleOptimizer was built with "
            "as apply(grads, variables) does",
            cmp,
            check=_apply_without_variables_code(case),
            build_first=True,
        )
