"""Which variables a step updates (the "optimizer cannot recognize variable" reports): after
optimizer.build(variables), a step given some of them, in any order, or one it was not built with.

Each step is judged teacher-forced against a second optimizer of the same configuration built on
every variable and handed the first one's state, whose step gives the other variables zero
gradients (checks/subsets.py): a verdict is about which variables and which state the step
touches, whatever the update rule.
"""

import re

from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive, subsets
from conformance.checks.claims import SOURCES, claim
from conformance.checks.reproducer import selected_script
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed, OptimizerRaised
from conformance.inputs.strategies import FLOAT32, cases

SOURCE = SOURCES["UNKNOWN_VARIABLE"] + "; Optimizer.build and Optimizer.apply in the Keras docs"
# What an error must say for a user to see the cause: the variable is unknown to the optimizer
# (Keras 3: "Unknown variable: ... originally built with"; Keras 2: "cannot recognize variable").
NAMES_THE_PROBLEM = re.compile(
    r"\b(unknown|unrecogni[sz]ed|untracked|new) variable|recogni[sz]e (the )?variable|built (with|on)\b", re.I
)

# The fixed conditions whose option acts across variables or keeps state of its own per variable
# (weight decay, a global norm, EMA averages, gradient accumulators, a wrapper); clipnorm,
# clipvalue and a schedule act on each variable alone, as the defaults do.
CONDITIONS = ("defaults", "weight_decay", "global_clipnorm", "use_ema", "gradient_accumulation_steps", "loss_scale")


def _draw(spec, data, max_steps: int):
    return data.draw(cases(spec, FLOAT32, max_steps=max_steps, min_vars=2), label="case")


def _raised(e: OptimizerRaised, case, built: list[int], steps: list, what: str) -> OptimizerRaised:
    """`e` again (its kind kept: whose code raised) with what the step was and a reproducer."""
    return type(e)(f"{e}\n({what})", reproducer=selected_script(case, built, steps))


@claim(
    "variables.subset_after_build",
    "After optimizer.build(variables), apply_gradients given some of those variables, or all of them in "
    "another order, updates exactly the variables given, each by one step: bit-for-bit what an optimizer of the "
    "same configuration in the same state does to them in a step on every variable, the others' gradients "
    "zero. Every variable not given, and its state, stays bit-for-bit unchanged.",
    SOURCE,
    conditions=CONDITIONS,
)
@given(data=st.data())
def test_subset_after_build(spec, data):
    case = _draw(spec, data, max_steps=3)  # three steps show each finding (subsets.selections)
    n = len(case.weights)
    plan = [subsets.draw_given(data, n, t) for t in range(len(case.grads))]
    a = adapter()
    opt, vars_ = drive.fresh(case, build=True)
    ref = subsets.reference(case, list(range(n)))
    before, done = drive.snapshot(opt, vars_), []
    for t, chosen in enumerate(plan):
        grads = [case.grads[t][i] for i in chosen]
        done.append((chosen, grads))
        try:
            a.apply(opt, grads, [vars_[i] for i in chosen])
        except OptimizerRaised as e:
            raise _raised(e, case, list(range(n)), done, f"step {t + 1} given {_names(chosen)} of {_names(range(n))}")
        after = drive.snapshot(opt, vars_)
        cmp = Comparison(case.dtype, ("built on all", "expected"))
        subsets.compare_step(cmp, t, chosen, before, after, subsets.expected_step(ref, before, chosen, grads))
        if cmp.failed:
            raise ClaimFailed(
                f"step {t + 1} given {_names(chosen)} after build on {_names(range(n))} did not update exactly "
                f"those ({cmp.summary()}):\n{cmp.report()}",
                reproducer=selected_script(
                    case, list(range(n)), done, check="# expected: only the variables given (and their state) move"
                ),
            )
        before = after


@claim(
    "variables.added_after_build",
    "apply_gradients given a variable the optimizer was not built with either raises an error that says the "
    "variable is unknown to it, before changing any weight or state, or updates that variable by one step of "
    "an optimizer built with it, leaving the others and their state intact; it never updates the wrong "
    "state or skips the variable silently.",
    SOURCE,
    conditions=CONDITIONS,
)
@given(data=st.data())
def test_added_after_build(spec, data):
    case = _draw(spec, data, max_steps=2)  # a step to build state up, then the step with the new one
    n = len(case.weights)
    new = n - 1 - data.draw(st.integers(0, n - 1), label="variable not built with (counted from the last)")
    built = [i for i in range(n) if i != new]
    left_out = data.draw(st.lists(st.booleans(), min_size=len(built), max_size=len(built)), label="built, left out")
    kept = [i for i, out in zip(built, left_out) if not out]
    at = len(kept) - data.draw(st.integers(0, len(kept)), label="place of the new one (counted from the end)")
    chosen = kept[:at] + [new] + kept[at:]
    a = adapter()
    opt = drive.construct(case)
    vars_ = a.variables(case.weights, case.dtype)
    a.build(opt, [vars_[i] for i in built])
    done = []
    for t, step in enumerate(case.grads[:-1]):  # state to corrupt, if a step is to corrupt any
        done.append((built, [step[i] for i in built]))
        try:
            a.apply(opt, done[-1][1], [vars_[i] for i in built])
        except OptimizerRaised as e:
            raise _raised(e, case, built, done, f"step {t + 1}, given the variables it was built with")
    before = drive.snapshot(opt, vars_)
    grads = [case.grads[-1][i] for i in chosen]
    done.append((chosen, grads))
    what = f"the last step given {_names(chosen)} after build on {_names(built)}"
    try:
        a.apply(opt, grads, [vars_[i] for i in chosen])
    except OptimizerRaised as e:
        _judge_error(e, case, built, done, before, drive.snapshot(opt, vars_), what)
        return
    cmp = Comparison(case.dtype, ("built without it", "expected"))
    expected = subsets.expected_step(subsets.reference(case, built + [new]), before, chosen, grads)
    subsets.compare_step(cmp, len(case.grads) - 1, chosen, before, drive.snapshot(opt, vars_), expected)
    if cmp.failed:
        raise ClaimFailed(
            f"{what} raised no error and did not update v{new} as one step of an optimizer built with it, "
            f"the others intact ({cmp.summary()}):\n{cmp.report()}",
            reproducer=selected_script(case, built, done, check=f"# expected: an error naming v{new}, or its step"),
        )


def _judge_error(e: OptimizerRaised, case, built: list[int], done: list, before, after, what: str) -> None:
    """An error is the clear outcome where it says what is wrong and the failed call changed nothing."""
    # the exception's own words (without terminal colours), not the suite's note of where it came from
    said = re.sub(r"\x1b\[[0-9;]*m", "", str(e.__cause__ if e.__cause__ is not None else e))
    cmp = Comparison(case.dtype, ("after the error", "before the call"))
    subsets.unchanged(cmp, before, after)
    problems = [] if NAMES_THE_PROBLEM.search(said) else ["its message does not say that a variable is unknown"]
    problems += [f"it changed weights or state first ({cmp.summary()}):\n{cmp.report()}"] if cmp.failed else []
    if problems:
        raise ClaimFailed(
            f"{what} raised {type(e.__cause__ or e).__name__}: {said[:400]!r}; " + "; ".join(problems),
            reproducer=selected_script(case, built, done),
        )


def _names(indices) -> str:
    return "[" + ", ".join(f"v{i}" for i in indices) + "]"
