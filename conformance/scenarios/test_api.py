"""Claims the seeds make about specific APIs, checked where the installed Keras has the API and
reported unsupported (with what Keras said) where it does not."""

import re
from dataclasses import replace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive, equivalence
from conformance.checks.claims import SOURCES, claim
from conformance.checks.equivalence import Expected
from conformance.core.compare import Comparison
from conformance.core.errors import OptimizerRaised, Unsupported
from conformance.inputs.catalogue import OMIT, Code
from conformance.inputs.conditions import FIXED
from conformance.inputs.strategies import FLOAT32, cases

HALVE = Code([lambda gv: [(g * 0.5, v) for g, v in gv]], "[lambda gv: [(g * 0.5, v) for g, v in gv]]")


@claim(
    "api.gradient_transformers",
    "An optimizer constructed with gradient_transformers=[f] applies f to the (gradient, variable) "
    "pairs before its update: with f halving the gradients, each step equals the optimizer without "
    "it given half the gradients.",
    SOURCES["ARGUMENT_STRUCTURE"] + " (Example 2: gradient_transformers=[clip_gradients])",
)
@given(data=st.data())
def test_gradient_transformers(spec, data):
    # Without clipping options: OptimizerV2 refuses them beside gradient_transformers (they are
    # themselves transformers there), which is not the API this claim is about.
    unclipped = {"clipnorm": None, "clipvalue": None, "global_clipnorm": None}
    case = data.draw(
        cases(
            spec,
            FLOAT32,
            configure=lambda draw, s: s.vary(opts=replace(s.opts, **unclipped), extra={"gradient_transformers": HALVE}),
        ),
        label="case",
    )
    try:
        case.setup.build()
    except Exception as e:  # noqa: BLE001 - rejecting the keyword by name means the API lacks it
        if "gradient_transformers" in str(e):
            said = re.sub(r" at 0x[0-9a-f]+", "", str(e))[:200]  # no addresses: the message is the same every run
            raise Unsupported(
                f"the constructor does not accept gradient_transformers: {type(e).__name__}: {said}"
            ) from None
        raise OptimizerRaised(f"Keras raised {type(e).__name__} during constructing {case.setup.code}: {e}") from e
    plain = case.setup.vary(extra={"gradient_transformers": OMIT})

    def plan(t, before, grads):
        return Expected(
            plain, before.weights, [0.5 * g for g in drive.as_dtype(grads, case.dtype)], before, "half the gradients"
        )

    equivalence.check(case, plan, "gradient_transformers are not applied")


@claim(
    "api.unaggregated_apply_gradients",
    "Outside a distribution strategy, apply_gradients with aggregation switched off "
    "(experimental_aggregate_gradients=False, or skip_gradients_aggregation=True) updates bit for "
    "bit like the default call.",
    SOURCES["OPTIMIZER_DOCS"] + " (apply_gradients: experimental_aggregate_gradients)",
)
@given(data=st.data())
def test_unaggregated_apply_gradients(spec, data):
    case = data.draw(cases(spec, FLOAT32), label="case")
    a = adapter()
    opt, vars_ = drive.fresh(case)
    flagged = []
    for grads in case.grads:
        a.apply_unaggregated(opt, grads, vars_)
        flagged.append(drive.snapshot(opt, vars_))
    default = drive.run(*drive.fresh(case), case.grads)
    cmp = Comparison(case.dtype, ("unaggregated", "default"))
    drive.compare_runs(cmp, flagged, default)
    if cmp.failed:
        equivalence.fail(case, case.grads, "apply_gradients without aggregation differs from the default call", cmp)


@claim(
    "api.get_weights_iterations_first",
    "optimizer.get_weights() returns the iteration count first, followed by the optimizer's state "
    "variables in the order they were created.",
    SOURCES["OPTIMIZER_DOCS"] + " (get_weights: 'The first value is always the iterations count')",
    # Keras 2's API, which has no gradient accumulation; under Keras 3's the first variable counts
    # micro-steps and iterations the updates, so no optimizer could hold both halves of the claim
    conditions=tuple(n for n in FIXED if n != "gradient_accumulation_steps"),
)
@given(data=st.data())
def test_get_weights_iterations_first(spec, data):
    case = data.draw(cases(spec, FLOAT32), label="case")
    a = adapter()
    opt, vars_ = drive.fresh(case)
    after = drive.run(opt, vars_, case.grads)[-1]
    weights = a.get_weights(opt)
    problems = []
    if not weights or np.ndim(weights[0]) != 0 or int(weights[0]) != after.iterations:
        problems.append(
            f"the first value is {weights[0] if weights else None!r}, not the iteration count {after.iterations}"
        )
    values = [sv.value for sv in after.state]
    if len(weights) != len(values) or any(np.asarray(w).tobytes() != v.tobytes() for w, v in zip(weights, values)):
        problems.append(
            f"the values are not the optimizer's variables in creation order {[sv.path for sv in after.state]}"
        )
    if problems:
        equivalence.fail(
            case,
            case.grads,
            "get_weights(): " + "; ".join(problems),
            None,
            check="print([w.shape for w in opt.get_weights()])",
        )
