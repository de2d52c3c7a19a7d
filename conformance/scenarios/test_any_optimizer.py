"""Reference-free claims: properties of any optimizer, built-in or custom, that need no reference
rule and no spec beyond constructing it with the base Optimizer keyword arguments. Each claim
states what it assumes of the update rule in its text."""

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters import current as adapter
from conformance.checks import drive
from conformance.checks.claims import BASE_DOCS, SOURCES, claim
from conformance.checks.reproducer import array_code, script
from conformance.core.compare import Comparison
from conformance.core.errors import ClaimFailed, OptimizerRaised, Unsupported
from conformance.inputs.learning_rates import LearningRate
from conformance.inputs.strategies import FLOAT32, cases

ANY = "reference-free property of any optimizer, one with no reference rule included (custom optimizers)"
ZERO = LearningRate("constant", {"value": 0.0})
# How one optimizer's state is copied into another built on the same weights: every variable
# assigned in optimizer.variables order, set_weights() of those values, save/load_own_variables().
COPIES = ("assign", "variables_set_weights", "own_variables")


def _zero_rate(draw, setup):
    """`setup` at learning rate 0 with weight_decay=0.0 stated (a class's own default may decay:
    AdamW, Muon), or left out where the optimizer takes no weight_decay argument."""
    try:
        return setup.vary(lr=ZERO, opts=replace(setup.opts, weight_decay=0.0))
    except Unsupported:
        return setup.vary(lr=ZERO, opts=replace(setup.opts, weight_decay=None))


@claim(
    "any.zero_learning_rate",
    "With learning_rate=0 (and weight_decay=0), every step leaves every weight bit-for-bit unchanged "
    "(assumed: the update is proportional to the learning rate, as in every documented Keras optimizer).",
    f"{BASE_DOCS}: learning_rate; {ANY}",
)
@given(data=st.data())
def test_zero_learning_rate(spec, data):
    case = data.draw(cases(spec, FLOAT32, max_steps=2, configure=_zero_rate), label="case")
    opt, vars_ = drive.fresh(case)
    before = adapter().values(vars_)
    cmp = Comparison(case.dtype, ("after", "before"))
    for t, after in enumerate(drive.run(opt, vars_, case.grads)):
        for i, (b, a) in enumerate(zip(before, after.weights)):
            cmp.equal(f"step {t + 1} weight v{i}", a, b)
        if cmp.failed:
            raise ClaimFailed(
                f"a step at learning rate 0 changed the weights (step {t + 1} of {len(case.grads)}):\n"
                f"{cmp.summary()}:\n{cmp.report()}",
                reproducer=script(
                    case, case.grads[: t + 1], check="# expected: the printed weights equal the initial values"
                ),
            )


def _compare(cmp: Comparison, runs: list[drive.Snapshot], like: list[drive.Snapshot]) -> None:
    """Weights and state bit for bit (drive.compare_runs), and the step counter."""
    drive.compare_runs(cmp, runs, like)
    for t, (a, b) in enumerate(zip(runs, like)):
        if a.iterations != b.iterations:
            cmp.differ(f"step {t + 1} iterations", a.iterations, b.iterations)


@claim(
    "any.deterministic",
    "The same optimizer configuration, applied to the same weights and gradients twice from fresh "
    "instances, gives the same bits: weights, state and iterations after every step (assumed: the "
    "update rule draws no random numbers, true of every documented Keras optimizer).",
    ANY,
)
@given(data=st.data())
def test_deterministic(spec, data):
    case = data.draw(cases(spec, FLOAT32, max_steps=2), label="case")
    first = drive.run(*drive.fresh(case), case.grads)
    second = drive.run(*drive.fresh(case), case.grads)
    cmp = Comparison(case.dtype, ("second run", "first run"))
    _compare(cmp, second, first)
    if cmp.failed:
        raise ClaimFailed(
            f"two fresh optimizers of one configuration, given the same weights and gradients, differ:\n"
            f"{cmp.summary()}:\n{cmp.report()}",
            reproducer=script(case, check="# expected: the same output every time this script runs"),
        )


def _copy(case, opt, vars_, how: str):
    """A new optimizer of the case's configuration, built on a copy of `vars_`, holding `opt`'s
    state copied by `how` (COPIES), through the adapter's state round trips."""
    a = adapter()
    new = drive.construct(case)
    copy = a.variables(a.values(vars_), case.dtype)
    a.create_state(new, copy)
    if how == "assign":
        a.assign_state(new, a.save_state(opt, "variables_set_weights"))
    else:
        a.load_state(new, how, a.save_state(opt, how))
    return new, copy


@claim(
    "any.state_copy",
    "An optimizer whose state was copied from another's after some steps (every variable assigned in "
    "optimizer.variables order, set_weights() of those values, or save/load_own_variables()), on the "
    "same weights, takes the same next step as the original, bit for bit (assumed: all the state an "
    "update reads is in optimizer.variables, as for every documented Keras optimizer).",
    f"{SOURCES['OPTIMIZER_DOCS']} (get_weights / set_weights); {ANY}",
)
@given(data=st.data())
def test_state_copy(spec, data):
    case = data.draw(cases(spec, FLOAT32, min_steps=2, max_steps=2), label="case")
    opt, vars_ = drive.fresh(case)
    drive.run(opt, vars_, case.grads[:-1])
    copies, unsupported, failed = {}, [], []
    for how in COPIES:
        try:
            copies[how] = _copy(case, opt, vars_, how)
        except Unsupported as e:
            unsupported.append(f"{how}: {e}")
        except OptimizerRaised as e:
            failed.append(f"state copied by {how}: {e}")
    if len(unsupported) == len(COPIES):
        raise Unsupported("; ".join(unsupported))
    original = drive.run(opt, vars_, case.grads[-1:])
    for how, (new, copy) in copies.items():
        cmp = Comparison(case.dtype, (f"copy ({how})", "original"))
        try:
            _compare(cmp, drive.run(new, copy, case.grads[-1:]), original)
        except OptimizerRaised as e:
            cmp.differ("the copy's step", str(e), "a step")
        if cmp.failed:
            failed.append(f"state copied by {how}: {cmp.summary()}:\n{cmp.report()}")
    if failed:
        raise ClaimFailed(
            f"with its state copied after step {len(case.grads) - 1}, a new optimizer does not take the original's "
            f"next step, copied {len(failed)} of {len(COPIES) - len(unsupported)} ways:\n"
            + "\n".join(failed)
            + "".join(f"\n(not checked: {u})" for u in unsupported),
            reproducer=script(
                case,
                case.grads[:-1],
                check=(
                    "# then a new optimizer of the same configuration, built on a copy of the printed weights "
                    "and given the\n"
                    f"# printed state ({' / '.join(COPIES)}), and opt both apply these gradients: "
                    "expected the same weights and state\n"
                    f"last_gradients = [{', '.join(array_code(g) for g in case.grads[-1])}]"
                ),
            ),
        )
